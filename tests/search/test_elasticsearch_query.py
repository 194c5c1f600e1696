"""The Elasticsearch backend's index mapping, documents and query bodies.

No Elasticsearch server runs here: the tests check what would be sent, for the same searches the
PostgreSQL tests run (tests/knowledge/test_search_postgres.py).
"""

from __future__ import annotations

import pytest

from apps.knowledge.models import Visibility
from apps.knowledge.search import article_search_document
from apps.search import DocumentType, Match, SearchDocument, TextField, register_document_type
from apps.search.backends.elasticsearch import (
    ElasticsearchBackend,
    build_document,
    build_search,
    document_class,
    index_name,
)
from tests.knowledge.helpers import make_article

ARTICLE_FIELDS = ["title", "tags", "category", "summary", "body"]
BOOSTS = {"title": "^4", "tags": "^2.5", "category": "^1.5", "summary": "^1.5", "body": ""}


def _fields(suffix):
    return [f"{name}_{suffix}{BOOSTS[name]}" for name in ARTICLE_FIELDS]


def _multi_match(query, suffix, operator="and"):
    return {
        "multi_match": {
            "query": query,
            "fields": _fields(suffix),
            "type": "cross_fields",
            "operator": operator,
        }
    }


@pytest.fixture(autouse=True)
def _jieba_mode(settings):
    settings.SEARCH_ES_CHINESE_ANALYZER = "jieba"
    settings.ELASTICSEARCH_INDEX_PREFIX = "cc"


def test_a_chinese_search_sends_jieba_words_to_the_chinese_fields_only():
    search = build_search(
        "knowledge.article",
        "我想申请退款怎么办？",
        language="zh-hans",
        filters={"status": "published", "visibility": None},
        limit=20,
    )

    assert search.to_dict() == {
        "query": {
            "bool": {
                "should": [_multi_match("申请 退款", "zh")],
                "minimum_should_match": 1,
                "filter": [{"term": {"status": "published"}}, {"term": {"language": "zh-hans"}}],
            }
        },
        "_source": False,
        "size": 20,
    }


def test_an_english_search_relies_on_the_english_analyzer_for_stemming():
    search = build_search("knowledge.article", "refunds", language="en", limit=5)

    assert search.to_dict()["query"] == {
        "bool": {
            "should": [_multi_match("refunds", "en")],
            "minimum_should_match": 1,
            "filter": [{"term": {"language": "en"}}],
        }
    }


def test_without_a_language_every_language_family_is_searched():
    search = build_search(
        "knowledge.article",
        "refund 退款政策",
        filters={"status": "published", "visibility": [Visibility.PUBLIC], "category": "billing"},
    )

    assert search.to_dict()["query"] == {
        "bool": {
            "should": [
                _multi_match("refund 退款政策", "en"),
                _multi_match("refund 退款 政策", "zh"),
                _multi_match("refund 退款政策", "std"),
            ],
            "minimum_should_match": 1,
            "filter": [
                {"term": {"status": "published"}},
                {"terms": {"visibility": ["public"]}},
                {"term": {"category": "billing"}},
            ],
        }
    }


def test_suggestions_match_any_word():
    search = build_search(
        "knowledge.article", "售后服务 退款 Refunds", language="zh-hans", match=Match.ANY, limit=20
    )

    assert search.to_dict()["query"]["bool"]["should"] == [
        _multi_match("售后服务 退款 Refunds", "zh", operator="or")
    ]


@pytest.mark.parametrize("mode", ["smartcn", "ik"])
def test_with_a_chinese_analyzer_plugin_the_query_is_sent_as_typed(settings, mode):
    settings.SEARCH_ES_CHINESE_ANALYZER = mode

    search = build_search("knowledge.article", "退款政策", language="zh-hans")

    assert search.to_dict()["query"]["bool"]["should"] == [_multi_match("退款政策", "zh")]


@pytest.mark.parametrize("query", ["", "？！", "   "])
def test_an_empty_query_builds_no_search_and_finds_nothing_without_a_server(query):
    assert build_search("knowledge.article", query) is None
    assert ElasticsearchBackend(url="http://127.0.0.1:9").search("knowledge.article", query) == []


def test_an_unknown_filter_is_refused():
    with pytest.raises(ValueError, match="queue"):
        build_search("knowledge.article", "refund", filters={"queue": "sales"})


def _same(names, mapping):
    return {name: dict(mapping) for name in names}


def _text_mappings(properties, suffix):
    return {name: properties[f"{name}_{suffix}"] for name in ARTICLE_FIELDS}


def test_the_index_mapping_with_jieba_pre_segmented_chinese():
    index = document_class("knowledge.article")._index

    body = index.to_dict()

    assert index._name == "cc-knowledge-article"
    assert body["settings"] == {
        "analysis": {
            "analyzer": {
                "cc_zh_pre_segmented": {
                    "type": "custom",
                    "tokenizer": "whitespace",
                    "filter": ["cjk_width", "lowercase"],
                }
            }
        }
    }
    properties = body["mappings"]["properties"]
    assert _text_mappings(properties, "en") == _same(
        ARTICLE_FIELDS, {"type": "text", "analyzer": "english"}
    )
    assert _text_mappings(properties, "zh") == _same(
        ARTICLE_FIELDS, {"type": "text", "analyzer": "cc_zh_pre_segmented"}
    )
    assert _text_mappings(properties, "std") == _same(
        ARTICLE_FIELDS, {"type": "text", "analyzer": "standard"}
    )
    assert {
        name: properties[name] for name in ("language", "status", "visibility", "category")
    } == _same(("language", "status", "visibility", "category"), {"type": "keyword"})
    assert len(properties) == len(ARTICLE_FIELDS) * 3 + 4


@pytest.mark.parametrize(
    ("mode", "mapping"),
    [
        ("smartcn", {"type": "text", "analyzer": "smartcn"}),
        ("ik", {"type": "text", "analyzer": "ik_max_word", "search_analyzer": "ik_smart"}),
    ],
)
def test_the_index_mapping_with_a_chinese_analyzer_plugin(settings, mode, mapping):
    settings.SEARCH_ES_CHINESE_ANALYZER = mode

    body = document_class("knowledge.article")._index.to_dict()

    assert _text_mappings(body["mappings"]["properties"], "zh") == _same(ARTICLE_FIELDS, mapping)
    assert "settings" not in body or "analysis" not in body["settings"]


def test_the_index_name_follows_the_prefix(settings):
    settings.ELASTICSEARCH_INDEX_PREFIX = "staging"

    assert index_name("knowledge.article") == "staging-knowledge-article"
    assert document_class("knowledge.article")._index._name == "staging-knowledge-article"


@pytest.mark.django_db
def test_a_chinese_article_is_sent_pre_segmented_to_the_chinese_fields():
    article = make_article(
        title="退款政策",
        body="客户可在签收后30天内申请退款。",
        language="zh-hans",
        tags=["退款", "售后"],
        category="after-sales",
    )

    body = build_document(article_search_document(article)).to_dict(include_meta=True)

    assert body == {
        "_index": "cc-knowledge-article",
        "_id": str(article.pk),
        "_source": {
            "title_zh": "退款 政策",
            "tags_zh": "退款 售后",
            "category_zh": "After-Sales after sales",
            "summary_zh": "",
            "body_zh": "客户 可 签收 后 30 天 内 申请 退款",
            "language": "zh-hans",
            "status": "published",
            "visibility": "public",
            "category": "after-sales",
        },
    }


@pytest.mark.django_db
def test_an_english_article_is_sent_as_written_to_the_english_fields(settings):
    settings.SEARCH_ES_CHINESE_ANALYZER = "smartcn"
    article = make_article(
        title="Refund policy",
        body="Refunds within 30 days.",
        tags=["refund"],
        category=None,
        published=False,
    )

    source = build_document(article_search_document(article)).to_dict()

    assert source == {
        "title_en": "Refund policy",
        "tags_en": "refund",
        "category_en": "",
        "summary_en": "",
        "body_en": "Refunds within 30 days.",
        "language": "en",
        "status": "draft",
        "visibility": "public",
        "category": "",
    }


def test_the_interface_is_generic_a_transcript_type_gets_its_own_index():
    register_document_type(
        DocumentType(
            name="qa.transcript",
            text_fields=(TextField("text", weight="A", boost=1),),
            filter_fields=("language", "queue", "agent"),
        )
    )

    search = build_search(
        "qa.transcript",
        "退款",
        filters={"queue": "after-sales", "agent": 7},
        language="zh-hans",
        limit=10,
    )
    document = build_document(
        SearchDocument(
            doc_type="qa.transcript",
            doc_id="r-1",
            language="zh-hans",
            fields={"text": "我要退款"},
            filters={"queue": "after-sales", "agent": 7},
        )
    )

    assert search._index == ["cc-qa-transcript"]
    assert search.to_dict()["query"]["bool"] == {
        "should": [
            {
                "multi_match": {
                    "query": "退款",
                    "fields": ["text_zh"],
                    "type": "cross_fields",
                    "operator": "and",
                }
            }
        ],
        "minimum_should_match": 1,
        "filter": [
            {"term": {"queue": "after-sales"}},
            {"term": {"agent": "7"}},
            {"term": {"language": "zh-hans"}},
        ],
    }
    assert document.to_dict(include_meta=True) == {
        "_index": "cc-qa-transcript",
        "_id": "r-1",
        "_source": {"text_zh": "退款", "queue": "after-sales", "agent": "7", "language": "zh-hans"},
    }
