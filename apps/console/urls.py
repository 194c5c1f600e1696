from django.urls import path
from django.views.i18n import JavaScriptCatalog

from apps.console import views

urlpatterns = [
    path("", views.console_page, name="console"),
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["apps.console"]),
        name="console-jsi18n",
    ),
]
