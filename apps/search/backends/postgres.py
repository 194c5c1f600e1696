"""PostgreSQL full-text search: a weighted tsvector column on the owner's rows, with a GIN index.

Index time: each text field is segmented (Chinese runs by jieba), turned into a tsvector with the
document language's configuration ('english' stems, 'simple' only lower-cases, for Chinese words
already split by jieba) and weighted (A for the strongest field); the parts are concatenated.

Query time: the query is segmented the same way and its terms are quoted into a tsquery with the
configuration of the requested language; without a language, one tsquery per site configuration is
OR-ed, so "refunds" finds English articles through 'refund' and Chinese ones through 'refunds'.
Ranking is ts_rank_cd (cover density) with the weights below, normalised to [0, 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.apps import apps
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import F, Value

from apps.search.documents import (
    DocumentType,
    FilterValue,
    Match,
    PostgresStorage,
    SearchDocument,
    SearchHit,
    check_filters,
    get_document_type,
)
from apps.search.text import language_analysis, query_terms, segment_for_index, site_analyses

# ts_rank_cd weights of the labels D, C, B, A (PostgreSQL's order).
RANK_WEIGHTS = [0.1, 0.2, 0.4, 1.0]
# 1: divide by 1 + log(document length), so long bodies do not win by size alone;
# 32: rank / (rank + 1), a score in [0, 1) that callers may combine with other signals.
RANK_NORMALIZATION = 1 | 32


def _quote_term(term: str) -> str:
    """Quote a term as a tsquery operand; the configuration's parser still splits and stems it."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def build_tsquery(terms: list[str], *, language: str | None, match: Match) -> Any:
    """Return the tsquery expression for query terms (see the module docstring)."""
    operator = " & " if match == Match.ALL else " | "
    raw = operator.join(_quote_term(term) for term in terms)
    configs: list[str] = []
    analyses = [language_analysis(language)] if language else site_analyses()
    for analysis in analyses:
        if analysis.pg_config not in configs:
            configs.append(analysis.pg_config)
    tsquery: Any = None
    for config in configs:
        part = SearchQuery(raw, config=config, search_type="raw")
        tsquery = part if tsquery is None else tsquery | part
    return tsquery


class PostgresSearchBackend:
    """Full-text search in PostgreSQL; the default backend."""

    name = "postgres"
    transactional = True

    def _storage(self, doc_type: DocumentType) -> tuple[type[models.Model], PostgresStorage]:
        if doc_type.postgres is None:
            raise ImproperlyConfigured(f"{doc_type.name} has no PostgreSQL storage.")
        return apps.get_model(doc_type.postgres.model), doc_type.postgres

    def setup(self, doc_type: str) -> None:
        """Nothing to create: the owner's migration adds the tsvector column and its GIN index."""
        self._storage(get_document_type(doc_type))

    def document_vector(self, document: SearchDocument) -> Any:
        """Return the weighted tsvector expression of a document."""
        doc_type = get_document_type(document.doc_type)
        config = language_analysis(document.language).pg_config
        vector: Any = None
        for text_field in doc_type.text_fields:
            text = segment_for_index(document.fields.get(text_field.name) or "")
            part = SearchVector(Value(text), config=config, weight=text_field.weight)
            vector = part if vector is None else vector + part
        return vector

    def index(self, document: SearchDocument) -> None:
        """Write the document's vector on its row (a missing row is left alone)."""
        model, storage = self._storage(get_document_type(document.doc_type))
        model._default_manager.filter(pk=document.doc_id).update(
            **{storage.vector_field: self.document_vector(document)}
        )

    def index_many(self, documents: Iterable[SearchDocument]) -> int:
        count = 0
        for document in documents:
            self.index(document)
            count += 1
        return count

    def delete(self, doc_type: str, doc_id: str) -> None:
        model, storage = self._storage(get_document_type(doc_type))
        model._default_manager.filter(pk=doc_id).update(**{storage.vector_field: None})

    def _filter_kwargs(
        self,
        doc_type: DocumentType,
        storage: PostgresStorage,
        filters: Mapping[str, FilterValue | None] | None,
        language: str | None,
    ) -> dict[str, Any]:
        check_filters(doc_type, filters)
        kwargs: dict[str, Any] = {}
        wanted = dict(filters or {})
        if language:
            wanted[doc_type.language_filter] = language
        for name, value in wanted.items():
            if value is None:
                continue
            lookup = storage.filter_lookups[name]
            if isinstance(value, list | tuple | set | frozenset):
                kwargs[f"{lookup}__in"] = list(value)
            else:
                kwargs[lookup] = value
        return kwargs

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
        """Return up to `limit` hits ranked by ts_rank_cd, ties broken by primary key."""
        definition = get_document_type(doc_type)
        model, storage = self._storage(definition)
        terms = query_terms(query)
        if not terms or limit <= 0:
            return []
        tsquery = build_tsquery(terms, language=language, match=match)
        rank = SearchRank(
            F(storage.vector_field),
            tsquery,
            weights=RANK_WEIGHTS,
            normalization=RANK_NORMALIZATION,
            cover_density=True,
        )
        rows = (
            model._default_manager.filter(**{storage.vector_field: tsquery})
            .filter(**self._filter_kwargs(definition, storage, filters, language))
            .annotate(search_rank=rank)
            .order_by("-search_rank", "pk")
            .values_list("pk", "search_rank")[:limit]
        )
        return [
            SearchHit(doc_type=doc_type, doc_id=str(pk), score=float(score)) for pk, score in rows
        ]
