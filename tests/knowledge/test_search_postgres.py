"""Full-text search of articles on PostgreSQL, in Chinese and English, scoped by who searches."""

from __future__ import annotations

import pytest

from apps.knowledge.models import Article, Visibility
from apps.knowledge.selectors import article_search
from apps.knowledge.services import (
    article_group_update,
    article_unpublish,
    article_update,
)
from tests.knowledge.helpers import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def library():
    """A small bilingual library: refunds and invoices in both languages, one internal article."""
    refund_en = make_article(
        title="Refund policy",
        body="A refund is paid to the original payment method within five business days.",
        tags=["money back"],
        category="after-sales",
    )
    refund_zh = make_article(
        title="退款政策",
        body="客户可在签收后30天内申请退款，款项原路退回。",
        language="zh-hans",
        tags=["退货"],
        group=refund_en.group,
    )
    invoice_en = make_article(
        title="Requesting an invoice",
        body="A VAT special invoice needs the company's tax number.",
        tags=["vat"],
        category="billing",
    )
    invoice_zh = make_article(
        title="如何开具发票",
        body="增值税专用发票需要提供公司名称和税号。",
        language="zh-hans",
        tags=["增值税"],
        group=invoice_en.group,
    )
    approval_en = make_article(
        title="Refund approval limits",
        body="Agents approve a refund up to 500 CNY alone.",
        visibility=Visibility.INTERNAL,
    )
    return {
        "refund_en": refund_en,
        "refund_zh": refund_zh,
        "invoice_en": invoice_en,
        "invoice_zh": invoice_zh,
        "approval_en": approval_en,
    }


def _titles(hits):
    return [hit.article.title for hit in hits]


def test_a_chinese_word_finds_the_chinese_article_that_contains_it_inside_longer_text(
    cast, library
):
    hits = article_search(actor=cast.agent_a1.user, query="退款", language="zh-hans")

    assert _titles(hits) == ["退款政策"]


def test_a_chinese_question_is_segmented_and_its_function_words_ignored(cast, library):
    hits = article_search(actor=cast.agent_a1.user, query="我想申请退款怎么办？")

    assert _titles(hits) == ["退款政策"]


def test_a_short_chinese_word_finds_the_compound_word_it_is_part_of(cast, library):
    # 增值税专用发票 is indexed as 增值 增值税 专用 发票 专用发票.
    hits = article_search(actor=cast.agent_a1.user, query="发票")

    assert _titles(hits) == ["如何开具发票"]


def test_english_stemming_lets_refunds_find_refund(cast, library):
    hits = article_search(actor=cast.agent_a1.user, query="refunds", language="en")

    assert sorted(_titles(hits)) == ["Refund approval limits", "Refund policy"]
    assert all("refunds" not in hit.article.body.lower() for hit in hits)


def test_every_term_of_a_search_must_match(cast, library):
    hits = article_search(actor=cast.agent_a1.user, query="refund payment")

    assert _titles(hits) == ["Refund policy"]


def test_without_a_language_both_languages_are_searched(cast, library):
    hits = article_search(actor=cast.agent_a1.user, query="VAT 增值税")

    assert _titles(hits) == []
    both = article_search(actor=cast.agent_a1.user, query="invoice")
    assert _titles(both) == ["Requesting an invoice"]
    chinese = article_search(actor=cast.agent_a1.user, query="增值税")
    assert _titles(chinese) == ["如何开具发票"]


def test_the_language_filter_keeps_other_languages_out(cast, library):
    assert _titles(article_search(actor=cast.admin, query="refund", language="zh-hans")) == []
    assert _titles(article_search(actor=cast.admin, query="退款", language="en")) == []


def test_title_ranks_above_tags_and_tags_above_body(cast):
    in_body = make_article(title="Repair terms", body="Repairs are covered by the warranty.")
    in_tags = make_article(
        title="Repair terms", body="Repairs are covered for a year.", tags=["warranty"]
    )
    in_title = make_article(title="Warranty terms", body="Repairs are covered for a year.")

    hits = article_search(actor=cast.agent_a1.user, query="warranty")

    assert [hit.article.pk for hit in hits] == [in_title.pk, in_tags.pk, in_body.pk]
    assert hits[0].score > hits[1].score > hits[2].score


def test_the_category_filter_keeps_other_categories_out(cast, library):
    hits = article_search(actor=cast.admin, query="refund invoice tax VAT", category="billing")
    assert _titles(hits) == []

    hits = article_search(actor=cast.admin, query="tax", category="billing")
    assert _titles(hits) == ["Requesting an invoice"]
    assert _titles(article_search(actor=cast.admin, query="tax", category="sales")) == []


def test_an_api_client_finds_public_articles_only(cast, library):
    hits = article_search(actor=cast.crm, query="refund")

    assert _titles(hits) == ["Refund policy"]


@pytest.mark.parametrize("who", ["agent", "qa", "supervisor", "admin"])
def test_staff_find_internal_articles_too(cast, library, who):
    actor = {
        "agent": cast.agent_a1.user,
        "qa": cast.qa,
        "supervisor": cast.supervisor_a,
        "admin": cast.admin,
    }[who]

    hits = article_search(actor=actor, query="refund")

    assert sorted(_titles(hits)) == ["Refund approval limits", "Refund policy"]


def test_drafts_are_found_by_editors_only(cast, library):
    make_article(
        title="Refund for gift cards", body="Gift cards are not refundable.", published=False
    )

    agent_hits = article_search(actor=cast.agent_a1.user, query="gift", status="draft")
    editor_hits = article_search(actor=cast.supervisor_a, query="gift", status="draft")
    editor_published = article_search(actor=cast.supervisor_a, query="gift", status="published")

    assert _titles(agent_hits) == []
    assert _titles(editor_hits) == ["Refund for gift cards"]
    assert _titles(editor_published) == []


def test_a_user_without_a_role_finds_nothing(library):
    from tests.factories import UserFactory

    assert article_search(actor=UserFactory(), query="refund") == []


def test_an_edit_is_searchable_at_once(cast, library):
    article_update(
        actor=cast.supervisor_a,
        article=library["refund_zh"],
        body="退款将在五个工作日内到账。",
    )

    assert _titles(article_search(actor=cast.agent_a1.user, query="申请")) == []
    assert _titles(article_search(actor=cast.agent_a1.user, query="工作日")) == ["退款政策"]


def test_an_unpublished_article_disappears_from_agents_searches(cast, library):
    article_unpublish(actor=cast.supervisor_a, article=library["refund_en"])

    assert _titles(article_search(actor=cast.agent_a1.user, query="refund")) == [
        "Refund approval limits"
    ]


def test_making_an_article_internal_hides_every_language_from_api_clients(cast, library):
    article_group_update(
        actor=cast.supervisor_a,
        group=library["refund_en"].group,
        visibility=Visibility.INTERNAL,
    )

    assert article_search(actor=cast.crm, query="refund") == []
    assert article_search(actor=cast.crm, query="退款") == []
    assert Article.objects.filter(group=library["refund_en"].group).count() == 2


@pytest.mark.parametrize("query", ["", "   ", "？！，", "the"])
def test_a_query_without_words_finds_nothing(cast, library, query):
    assert article_search(actor=cast.admin, query=query) == []


def test_limit_caps_the_hits(cast, library):
    hits = article_search(actor=cast.admin, query="refund", limit=1)

    assert len(hits) == 1
