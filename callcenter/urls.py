from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.accounts.views import language_preference
from apps.core.views import healthz

api_v1 = [
    path("", include("apps.accounts.api.urls")),
    path("audit/", include("apps.audit.api.urls")),
    path("telephony/", include("apps.telephony.api.urls")),
    path("routing/", include("apps.routing.api.urls")),
    path("ivr/", include("apps.ivr.api.urls")),
    path("customers/", include("apps.customers.api.urls")),
    path("tickets/", include("apps.tickets.api.urls")),
    path("knowledge/", include("apps.knowledge.api.urls")),
    path("console/", include("apps.console.api.urls")),
]

urlpatterns = [
    path("", login_required(TemplateView.as_view(template_name="home.html")), name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/language/", language_preference, name="language-preference"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("freeswitch/", include("apps.telephony.freeswitch_urls")),
    path("freeswitch/httapi/", include("apps.ivr.httapi_urls")),
    path("console/", include("apps.console.urls")),
    path("self-service/", include("apps.tickets.self_service_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
