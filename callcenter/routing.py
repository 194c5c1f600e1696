"""WebSocket routes. Each app contributes its consumers' patterns here."""

websocket_urlpatterns: list = []
