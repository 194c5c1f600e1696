from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.health import run_health_checks


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Public liveness/readiness for load balancers: 200 when healthy, 503 otherwise.

    It reveals only dependency names and up/down, nothing about data.
    """
    healthy, report = run_health_checks()
    return JsonResponse(report, status=200 if healthy else 503)
