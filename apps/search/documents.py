"""What a search index holds: document types (fields, weights, filters) and the documents.

A document type is registered once, by the app that owns the documents (in its AppConfig.ready):
knowledge articles now, QA recording transcripts later. Backends read the type to build the index
and the query, so they never import the apps that use them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from django.core.exceptions import ImproperlyConfigured

FilterValue = str | int | bool | Sequence[str | int]
_PG_WEIGHTS = ("A", "B", "C", "D")


class Match(StrEnum):
    """How the terms of a query combine: every term (a search box) or any term (suggestions)."""

    ALL = "all"
    ANY = "any"


@dataclass(frozen=True)
class TextField:
    """A full-text field: its PostgreSQL weight label (A strongest) and Elasticsearch boost."""

    name: str
    weight: str
    boost: float = 1.0

    def __post_init__(self) -> None:
        if self.weight not in _PG_WEIGHTS:
            raise ImproperlyConfigured(f"Text field {self.name}: weight must be one of A, B, C, D.")


@dataclass(frozen=True)
class PostgresStorage:
    """Where the PostgreSQL backend keeps a type's index: a tsvector column on the owner's model.

    `filter_lookups` maps each filter name to the ORM lookup that reads it from the row, so
    filters always use the row's current values.
    """

    model: str  # "app_label.ModelName"
    vector_field: str = "search_vector"
    filter_lookups: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentType:
    """A kind of searchable document: its text fields, its keyword filters, its storage."""

    name: str  # "knowledge.article"
    text_fields: tuple[TextField, ...]
    filter_fields: tuple[str, ...]
    language_filter: str = "language"
    postgres: PostgresStorage | None = None

    def __post_init__(self) -> None:
        if self.language_filter not in self.filter_fields:
            raise ImproperlyConfigured(
                f"{self.name}: the language filter {self.language_filter!r} must be a filter field."
            )
        if self.postgres is not None:
            missing = set(self.filter_fields) - set(self.postgres.filter_lookups)
            if missing:
                raise ImproperlyConfigured(
                    f"{self.name}: no PostgreSQL lookup for filters {sorted(missing)}."
                )

    def text_field_names(self) -> list[str]:
        return [text_field.name for text_field in self.text_fields]


@dataclass(frozen=True)
class SearchDocument:
    """One document to index: raw text per field (backends analyse it) and its filter values."""

    doc_type: str
    doc_id: str
    language: str
    fields: Mapping[str, str]
    filters: Mapping[str, FilterValue]


@dataclass(frozen=True)
class SearchHit:
    """A ranked result: higher scores are better; scores compare only within one search."""

    doc_type: str
    doc_id: str
    score: float


_registry: dict[str, DocumentType] = {}


def register_document_type(doc_type: DocumentType) -> None:
    """Make a document type known to the backends; registering the same definition again is fine."""
    existing = _registry.get(doc_type.name)
    if existing is not None and existing != doc_type:
        raise ImproperlyConfigured(f"Document type {doc_type.name} is already registered.")
    _registry[doc_type.name] = doc_type


def get_document_type(name: str) -> DocumentType:
    """Return a registered document type."""
    try:
        return _registry[name]
    except KeyError as exc:
        raise ImproperlyConfigured(f"Unknown search document type {name!r}.") from exc


def registered_document_types() -> list[DocumentType]:
    return list(_registry.values())


def check_filters(doc_type: DocumentType, filters: Mapping[str, object] | None) -> None:
    """Refuse filters the document type does not declare (a programming error, not user input)."""
    unknown = set(filters or {}) - set(doc_type.filter_fields)
    if unknown:
        raise ValueError(f"{doc_type.name} has no filters {sorted(unknown)}.")
