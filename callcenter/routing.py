"""WebSocket routes. Each app contributes its consumers' patterns here."""

from django.urls import path

from apps.console.consumers import ConsoleConsumer

websocket_urlpatterns: list = [
    path("ws/console/", ConsoleConsumer.as_asgi(), name="console-socket"),
]
