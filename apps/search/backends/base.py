"""The interface every search backend implements."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol, runtime_checkable

from apps.search.documents import FilterValue, Match, SearchDocument, SearchHit


@runtime_checkable
class SearchBackend(Protocol):
    """Index documents and return ranked hits.

    `transactional` backends write the index in the caller's database transaction (call index()
    inside it); the others are remote and must be written after commit (e.g. by a Celery task).
    """

    name: str
    transactional: bool

    def setup(self, doc_type: str) -> None:
        """Create the index of a document type if the backend needs one."""
        ...

    def index(self, document: SearchDocument) -> None:
        """Add or replace one document."""
        ...

    def index_many(self, documents: Iterable[SearchDocument]) -> int:
        """Add or replace documents; return how many were written."""
        ...

    def delete(self, doc_type: str, doc_id: str) -> None:
        """Remove a document; removing a missing one is not an error."""
        ...

    def search(
        self,
        doc_type: str,
        query: str,
        *,
        filters: Mapping[str, FilterValue | None] | None = None,
        language: str | None = None,
        limit: int = 20,
        match: Match = Match.ALL,
    ) -> list[SearchHit]:
        """Return up to `limit` hits, best first.

        `language` restricts the documents to that language and analyses the query in it; without
        it, the query is analysed for every site language and documents of all languages match.
        A filter whose value is a list matches any of its values; None means no filter.
        """
        ...
