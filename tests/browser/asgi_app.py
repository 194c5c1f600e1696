"""The suite's ASGI application for browser tests: the test profile has DEBUG off, so the static
files (the console's JavaScript and CSS) are served here the way a proxy serves them in
production."""

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

from callcenter.asgi import application as project_application
from callcenter.asgi import django_asgi_app

application = type(project_application)(
    {
        "http": ASGIStaticFilesHandler(django_asgi_app),
        "websocket": project_application.application_mapping["websocket"],
    }
)
