from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.accounts.services import user_update_preferences


@login_required
@require_POST
def language_preference(request: HttpRequest) -> HttpResponseRedirect | HttpResponseBadRequest:
    """Save the logged-in user's language (it follows them to every device)."""
    language = request.POST.get("language", "")
    if language not in {code for code, _ in settings.LANGUAGES}:
        return HttpResponseBadRequest("Unknown language.")
    user_update_preferences(user=request.user, language=language)
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return HttpResponseRedirect(target)
