"""One search interface over PostgreSQL full-text search or Elasticsearch.

    backend = get_search_backend()          # chosen by settings.SEARCH_BACKEND
    backend.index(SearchDocument(...))
    hits = backend.search("knowledge.article", "退款", filters={"status": "published"},
                          language="zh-hans", limit=10)

Apps register their document types (apps.search.documents.register_document_type) in their
AppConfig.ready; the backends know nothing else about them.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.search.backends.base import SearchBackend
from apps.search.documents import (
    DocumentType,
    Match,
    PostgresStorage,
    SearchDocument,
    SearchHit,
    TextField,
    get_document_type,
    register_document_type,
)
from apps.search.errors import SearchUnavailable
from apps.search.text import warm_up

__all__ = [
    "DocumentType",
    "Match",
    "PostgresStorage",
    "SearchBackend",
    "SearchDocument",
    "SearchHit",
    "SearchUnavailable",
    "TextField",
    "get_document_type",
    "get_search_backend",
    "register_document_type",
    "warm_up",
]

BACKEND_NAMES = ("postgres", "elasticsearch")
_backends: dict[str, SearchBackend] = {}
_backends_lock = threading.Lock()


def _build_backend(name: str) -> SearchBackend:
    if name == "postgres":
        from apps.search.backends.postgres import PostgresSearchBackend

        return PostgresSearchBackend()
    from apps.search.backends.elasticsearch import ElasticsearchBackend

    return ElasticsearchBackend()


def get_search_backend() -> SearchBackend:
    """Return the backend named by settings.SEARCH_BACKEND ("postgres" or "elasticsearch").

    One instance per process and name (the Elasticsearch client keeps its connection pool).
    """
    name = getattr(settings, "SEARCH_BACKEND", "postgres") or "postgres"
    if name not in BACKEND_NAMES:
        raise ImproperlyConfigured(f"SEARCH_BACKEND must be one of {BACKEND_NAMES}, got {name!r}.")
    backend = _backends.get(name)
    if backend is None:
        with _backends_lock:
            backend = _backends.setdefault(name, _build_backend(name))
    return backend
