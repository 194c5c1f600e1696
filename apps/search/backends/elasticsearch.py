"""Elasticsearch through elasticsearch-dsl: one index per document type.

Each text field is mapped once per language family, with that family's analyzer:
`title_en` (the built-in `english` analyzer: stemming, stop words), `title_zh` (Chinese) and
`title_std` (the `standard` analyzer, for other languages). A document fills the fields of its own
language; a query searches the fields of the requested language (or of all of them, OR-ed), with a
multi_match per language whose field boosts follow the document type (title > tags > body).

Chinese is set by settings.SEARCH_ES_CHINESE_ANALYZER:
- "smartcn": the analysis-smartcn plugin's `smartcn` analyzer (official plugin, dictionary + HMM).
- "ik": the elasticsearch-analysis-ik plugin, `ik_max_word` at index time (every word, like jieba's
  search mode) and `ik_smart` at query time (the coarsest split).
- "jieba" (default): no plugin needed. The text is segmented by jieba in Python, with the same
  code as the PostgreSQL backend, and the field uses a whitespace tokenizer, so both backends split
  Chinese identically. Without a plugin, the standard analyzer would index single characters
  (退 and 款), which matches 退出 or 款式 too and ranks poorly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from elastic_transport import TransportError
from elasticsearch import Elasticsearch
from elasticsearch.helpers import bulk
from elasticsearch_dsl import Document, Keyword, Q, Search, Text, analyzer

from apps.search.documents import (
    DocumentType,
    FilterValue,
    Match,
    SearchDocument,
    SearchHit,
    check_filters,
    get_document_type,
)
from apps.search.errors import SearchUnavailable
from apps.search.text import (
    CHINESE,
    ENGLISH,
    OTHER,
    LanguageAnalysis,
    language_analysis,
    query_terms,
    segment_for_index,
    segment_for_query,
    site_analyses,
)

CHINESE_ANALYZER_MODES = ("jieba", "smartcn", "ik")
REQUEST_TIMEOUT_SECONDS = 5

# Words already split by jieba: split on spaces, fold full-width forms and case.
PRE_SEGMENTED_ANALYZER = analyzer(
    "cc_zh_pre_segmented", tokenizer="whitespace", filter=["cjk_width", "lowercase"]
)


def chinese_analyzer_mode() -> str:
    """Return the configured Chinese analysis ("jieba", "smartcn" or "ik")."""
    mode = getattr(settings, "SEARCH_ES_CHINESE_ANALYZER", "jieba")
    if mode not in CHINESE_ANALYZER_MODES:
        raise ImproperlyConfigured(
            f"SEARCH_ES_CHINESE_ANALYZER must be one of {CHINESE_ANALYZER_MODES}, got {mode!r}."
        )
    return mode


def index_name(doc_type: str) -> str:
    """Return the index of a document type, e.g. "cc-knowledge-article"."""
    prefix = getattr(settings, "ELASTICSEARCH_INDEX_PREFIX", "cc")
    return f"{prefix}-{doc_type.replace('.', '-').replace('_', '-')}"


def _text_field(analysis: LanguageAnalysis, mode: str) -> Text:
    if analysis == ENGLISH:
        return Text(analyzer="english")
    if analysis == CHINESE:
        if mode == "smartcn":
            return Text(analyzer="smartcn")
        if mode == "ik":
            return Text(analyzer="ik_max_word", search_analyzer="ik_smart")
        return Text(analyzer=PRE_SEGMENTED_ANALYZER)
    return Text(analyzer="standard")


MAPPED_ANALYSES = (ENGLISH, CHINESE, OTHER)
_document_classes: dict[tuple[str, str, str], type[Document]] = {}


def document_class(doc_type: str) -> type[Document]:
    """Return the elasticsearch-dsl Document class (mapping and index settings) of a type."""
    definition = get_document_type(doc_type)
    mode = chinese_analyzer_mode()
    name = index_name(doc_type)
    key = (doc_type, mode, name)
    if key not in _document_classes:
        attrs: dict[str, Any] = {}
        for text_field in definition.text_fields:
            for analysis in MAPPED_ANALYSES:
                attrs[f"{text_field.name}_{analysis.es_suffix}"] = _text_field(analysis, mode)
        for filter_field in definition.filter_fields:
            attrs[filter_field] = Keyword()
        attrs["Index"] = type("Index", (), {"name": name, "settings": {}})
        class_name = "".join(part.title() for part in doc_type.replace("_", ".").split("."))
        _document_classes[key] = type(f"{class_name}Document", (Document,), attrs)
    return _document_classes[key]


def _keyword(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _field_text(text: str, analysis: LanguageAnalysis, mode: str, *, for_query: bool) -> str:
    if analysis == CHINESE and mode == "jieba":
        return segment_for_query(text) if for_query else segment_for_index(text)
    return text


def build_document(document: SearchDocument) -> Document:
    """Return the Elasticsearch document (id, index and source) of a search document."""
    definition = get_document_type(document.doc_type)
    check_filters(definition, document.filters)
    mode = chinese_analyzer_mode()
    analysis = language_analysis(document.language)
    source: dict[str, Any] = {}
    for text_field in definition.text_fields:
        text = document.fields.get(text_field.name) or ""
        source[f"{text_field.name}_{analysis.es_suffix}"] = _field_text(
            text, analysis, mode, for_query=False
        )
    filters = {**document.filters, definition.language_filter: document.language}
    for name, value in filters.items():
        if isinstance(value, list | tuple | set | frozenset):
            source[name] = [_keyword(item) for item in value]
        elif value is not None:
            source[name] = _keyword(value)
    return document_class(document.doc_type)(meta={"id": document.doc_id}, **source)


def _field_list(definition: DocumentType, analysis: LanguageAnalysis) -> list[str]:
    fields = []
    for text_field in definition.text_fields:
        name = f"{text_field.name}_{analysis.es_suffix}"
        fields.append(name if text_field.boost == 1 else f"{name}^{text_field.boost:g}")
    return fields


def _filter_clauses(
    definition: DocumentType,
    filters: Mapping[str, FilterValue | None] | None,
    language: str | None,
) -> list[Q]:
    check_filters(definition, filters)
    wanted = dict(filters or {})
    if language:
        wanted[definition.language_filter] = language
    clauses = []
    for name, value in wanted.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            clauses.append(Q("terms", **{name: [_keyword(item) for item in value]}))
        else:
            clauses.append(Q("term", **{name: _keyword(value)}))
    return clauses


def build_search(
    doc_type: str,
    query: str,
    *,
    filters: Mapping[str, FilterValue | None] | None = None,
    language: str | None = None,
    limit: int = 20,
    match: Match = Match.ALL,
) -> Search | None:
    """Return the search for a query (see the module docstring), or None for an empty query."""
    definition = get_document_type(doc_type)
    if not query_terms(query) or limit <= 0:
        return None
    mode = chinese_analyzer_mode()
    if language:
        analyses = [language_analysis(language)]
    else:
        analyses = [*site_analyses(), *(a for a in MAPPED_ANALYSES if a not in site_analyses())]
    operator = "and" if match == Match.ALL else "or"
    per_language = [
        Q(
            "multi_match",
            query=_field_text(query, analysis, mode, for_query=True).strip(),
            fields=_field_list(definition, analysis),
            type="cross_fields",
            operator=operator,
        )
        for analysis in analyses
    ]
    bool_query = Q(
        "bool",
        should=per_language,
        minimum_should_match=1,
        filter=_filter_clauses(definition, filters, language),
    )
    return document_class(doc_type).search().query(bool_query).source(False)[:limit]


class ElasticsearchBackend:
    """Search in Elasticsearch; index writes are remote, so callers send them after commit."""

    name = "elasticsearch"
    transactional = False

    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._client: Elasticsearch | None = None

    @property
    def client(self) -> Elasticsearch:
        if self._client is None:
            url = self._url or getattr(settings, "ELASTICSEARCH_URL", "http://127.0.0.1:9200")
            self._client = Elasticsearch(url, request_timeout=REQUEST_TIMEOUT_SECONDS)
        return self._client

    def setup(self, doc_type: str) -> None:
        """Create the index with its mapping, or add new fields to an existing one."""
        try:
            document_class(doc_type).init(using=self.client)
        except TransportError as exc:
            raise SearchUnavailable(str(exc)) from exc

    def index(self, document: SearchDocument) -> None:
        try:
            build_document(document).save(using=self.client)
        except TransportError as exc:
            raise SearchUnavailable(str(exc)) from exc

    def index_many(self, documents: Iterable[SearchDocument]) -> int:
        actions = (build_document(doc).to_dict(include_meta=True) for doc in documents)
        try:
            written, _errors = bulk(self.client, actions, raise_on_error=True)
        except TransportError as exc:
            raise SearchUnavailable(str(exc)) from exc
        return written

    def delete(self, doc_type: str, doc_id: str) -> None:
        try:
            self.client.options(ignore_status=404).delete(index=index_name(doc_type), id=doc_id)
        except TransportError as exc:
            raise SearchUnavailable(str(exc)) from exc

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
        search = build_search(
            doc_type, query, filters=filters, language=language, limit=limit, match=match
        )
        if search is None:
            return []
        try:
            response = search.using(self.client).execute()
        except TransportError as exc:
            raise SearchUnavailable(str(exc)) from exc
        return [
            SearchHit(doc_type=doc_type, doc_id=str(hit.meta.id), score=float(hit.meta.score))
            for hit in response
        ]
