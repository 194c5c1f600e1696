"""The PostgreSQL backend: the weighted tsvector it writes, the tsquery it builds, its filters."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.knowledge.models import Article
from apps.knowledge.search import ARTICLE_DOC_TYPE, article_search_document
from apps.search import Match, SearchDocument, SearchHit
from apps.search.backends.postgres import PostgresSearchBackend, build_tsquery
from tests.knowledge.helpers import make_article

pytestmark = pytest.mark.django_db

backend = PostgresSearchBackend()


def _vector(article):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_vector::text FROM knowledge_article WHERE id = %s", [article.pk]
        )
        return cursor.fetchone()[0]


def _tsquery_text(terms, language, match):
    """Return the tsquery PostgreSQL builds from the terms, as text."""
    expression = build_tsquery(terms, language=language, match=match)
    query = Article.objects.all().query
    sql, params = expression.resolve_expression(query).as_sql(
        query.get_compiler(using="default"), connection
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({sql})::text", params)
        return cursor.fetchone()[0]


def test_chinese_is_stored_as_jieba_words_with_the_simple_configuration():
    article = make_article(
        title="退款政策", body="申请退款", language="zh-hans", tags=["售后"], category=None
    )

    assert _vector(article) == "'售后':3B '政策':2A '申请':4 '退款':1A,5"


def test_english_is_stored_stemmed_with_the_english_configuration():
    article = make_article(
        title="Refund policies", body="Refunds are paid", tags=["money"], category=None
    )

    assert _vector(article) == "'money':3B 'paid':6 'polici':2A 'refund':1A,4"


def test_a_query_is_analysed_for_each_site_language_without_a_language():
    assert _tsquery_text(["refunds", "退款"], None, Match.ALL) == (
        "'refund' & '退款' | 'refunds' & '退款'"
    )


@pytest.mark.parametrize(
    ("terms", "language", "match", "expected"),
    [
        (["refunds", "退款"], "en", Match.ALL, "'refund' & '退款'"),
        (["退款", "发票"], "zh-hans", Match.ANY, "'退款' | '发票'"),
        # Quotes and backslashes stay inside their operand; the parser splits the words.
        (["o'brien", "back\\slash"], "zh-hans", Match.ALL, "'o' <-> 'brien' & 'back' <-> 'slash'"),
    ],
)
def test_terms_are_quoted_into_a_tsquery(terms, language, match, expected):
    assert _tsquery_text(terms, language, match) == expected


def test_a_quote_in_a_query_is_searched_not_injected():
    article = make_article(title="O'Brien's refund", body="Paid back.", category=None)

    hits = backend.search(ARTICLE_DOC_TYPE, "O'Brien's", limit=5)

    assert hits == [
        SearchHit(doc_type=ARTICLE_DOC_TYPE, doc_id=str(article.pk), score=hits[0].score)
    ]


def test_filters_read_the_rows_current_values():
    article = make_article(title="Refund policy", body="Thirty days.", category="billing")

    found = backend.search(
        ARTICLE_DOC_TYPE,
        "refund",
        filters={"category": "billing", "status": ["published", "draft"]},
    )
    missed = backend.search(ARTICLE_DOC_TYPE, "refund", filters={"visibility": "internal"})

    assert [hit.doc_id for hit in found] == [str(article.pk)]
    assert missed == []


def test_an_unknown_filter_is_refused():
    with pytest.raises(ValueError, match="queue"):
        backend.search(ARTICLE_DOC_TYPE, "refund", filters={"queue": "sales"})


def test_delete_removes_the_document_from_the_index_only():
    article = make_article(title="Refund policy", body="Thirty days.")

    backend.delete(ARTICLE_DOC_TYPE, str(article.pk))

    assert backend.search(ARTICLE_DOC_TYPE, "refund") == []
    assert Article.objects.filter(pk=article.pk).exists()
    backend.index(article_search_document(article))
    assert [hit.doc_id for hit in backend.search(ARTICLE_DOC_TYPE, "refund")] == [str(article.pk)]


def test_indexing_a_document_without_its_row_writes_nothing():
    backend.index(
        SearchDocument(
            doc_type=ARTICLE_DOC_TYPE,
            doc_id="999999",
            language="en",
            fields={"title": "Ghost"},
            filters={},
        )
    )

    assert backend.search(ARTICLE_DOC_TYPE, "ghost") == []


def test_a_zero_limit_finds_nothing():
    make_article(title="Refund policy", body="Thirty days.")

    assert backend.search(ARTICLE_DOC_TYPE, "refund", limit=0) == []


def test_the_search_uses_the_gin_index():
    for number in range(3):
        make_article(title=f"Refund {number}", body="Thirty days.")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        query = (
            Article.objects.filter(
                search_vector=build_tsquery(["refund"], language="en", match=Match.ALL)
            )
            .values("pk")
            .query
        )
        sql, params = query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "knowledge_article_search" in plan
