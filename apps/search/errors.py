"""Errors raised by the search backends."""

from __future__ import annotations

from apps.core.errors import ServiceUnavailable


class SearchUnavailable(ServiceUnavailable):
    """The search engine could not be reached or refused the request (retry later)."""

    code = "search_unavailable"
