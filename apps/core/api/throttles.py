from rest_framework.throttling import SimpleRateThrottle


class PerClientRateThrottle(SimpleRateThrottle):
    """Rate limit per authenticated client (user or service account); anonymous is separate."""

    scope = "client"

    def get_cache_key(self, request, view):  # type: ignore[no-untyped-def]
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
