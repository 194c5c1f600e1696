"""Suggestions for the agent from the contact's context, reordered by feedback and usage."""

from __future__ import annotations

import pytest

from apps.knowledge.models import Visibility
from apps.knowledge.selectors import SuggestionContext, article_suggest
from apps.knowledge.services import article_feedback_record, article_usage_record
from tests.factories import UserFactory
from tests.knowledge.helpers import make_article

pytestmark = pytest.mark.django_db


def _titles(hits):
    return [hit.article.title for hit in hits]


def test_the_context_becomes_one_query_most_specific_first():
    context = SuggestionContext(
        ivr_path=["售后服务", "退款"],
        queue_name="After-sales",
        queue_slug="after-sales",
        skills=["refund_handling", "zh"],
        language="zh-hans",
        ticket_subject="Where is my money?",
        ticket_text="  ",
    )

    assert context.query_text() == (
        "Where is my money? 售后服务 退款 After-sales after sales refund handling zh"
    )


def test_an_empty_context_suggests_nothing(cast):
    make_article(title="Refund policy", body="Refunds within 30 days.")

    assert article_suggest(actor=cast.agent_a1.user, context=SuggestionContext()) == []


@pytest.fixture
def library():
    refund_zh = make_article(
        title="退款政策", body="签收后30天内可申请退款。", language="zh-hans", tags=["退款", "售后"]
    )
    make_article(
        title="Refund policy",
        body="Refunds within 30 days.",
        tags=["refund"],
        group=refund_zh.group,
    )
    make_article(
        title="物流配送时效",
        body="主要城市1至2天送达。",
        language="zh-hans",
        tags=["物流"],
        category="shipping",
    )
    make_article(
        title="Delivery times",
        body="Delivery takes 1-2 days.",
        tags=["delivery", "logistics"],
        category="shipping",
    )
    make_article(
        title="退款审批权限",
        body="500元以内的退款坐席可直接批准。",
        language="zh-hans",
        tags=["退款"],
        visibility=Visibility.INTERNAL,
    )
    make_article(title="退款草稿", body="退款新规定。", language="zh-hans", published=False)


def test_the_ivr_choice_finds_articles_in_the_customers_language_first(cast, library):
    context = SuggestionContext(
        ivr_path=["售后服务", "退款"], queue_name="Refunds", language="zh-hans"
    )

    hits = article_suggest(actor=cast.agent_a1.user, context=context, limit=5)

    # Chinese matches first; the English refund article fills the list because few matched.
    assert _titles(hits) == ["退款政策", "退款审批权限", "Refund policy"]


def test_without_a_language_every_language_competes(cast, library):
    context = SuggestionContext(queue_slug="logistics", skills=["delivery"])

    hits = article_suggest(actor=cast.agent_a1.user, context=context, limit=5)

    assert _titles(hits) == ["Delivery times"]


def test_a_queue_named_like_a_category_suggests_its_articles(cast, library):
    context = SuggestionContext(queue_slug="shipping", language="en")

    hits = article_suggest(actor=cast.agent_a1.user, context=context, limit=5)

    # Both delivery articles are in "shipping"; the English one first, the customer's language.
    assert _titles(hits) == ["Delivery times", "物流配送时效"]


def test_api_clients_are_offered_public_articles_only(cast, library):
    context = SuggestionContext(ivr_path=["退款"], language="zh-hans")

    hits = article_suggest(actor=cast.crm, context=context, limit=5)

    assert _titles(hits) == ["退款政策"]


def test_drafts_are_never_suggested_even_to_editors(cast, library):
    context = SuggestionContext(ticket_subject="退款", language="zh-hans")

    hits = article_suggest(actor=cast.admin, context=context, limit=5)

    assert "退款草稿" not in _titles(hits)
    assert _titles(hits) == ["退款政策", "退款审批权限"]


def test_a_user_without_a_role_gets_no_suggestions(library):
    context = SuggestionContext(ticket_subject="退款", language="zh-hans")

    assert article_suggest(actor=UserFactory(), context=context) == []


@pytest.fixture
def twins():
    """Two articles that match the same context equally well."""
    first = make_article(title="Invoice copy", body="Send a copy of the invoice by fax.")
    second = make_article(title="Invoice copy", body="Send a copy of the invoice by post.")
    return first, second


def _suggest_invoices(actor):
    return article_suggest(
        actor=actor,
        context=SuggestionContext(ticket_subject="invoice copy", language="en"),
        limit=2,
    )


def test_helpful_feedback_moves_an_article_up(cast, twins):
    first, second = twins
    before = _suggest_invoices(cast.agent_a1.user)
    assert [hit.article.pk for hit in before] == [first.pk, second.pk]
    assert before[0].score == before[1].score

    article_feedback_record(actor=cast.agent_a1.user, article=second, helpful=True)

    after = _suggest_invoices(cast.agent_a1.user)
    assert [hit.article.pk for hit in after] == [second.pk, first.pk]
    assert after[0].text_score == after[1].text_score
    assert after[0].score > after[1].score


def test_not_helpful_feedback_moves_an_article_down(cast, twins):
    first, second = twins

    article_feedback_record(actor=cast.agent_a2.user, article=first, helpful=False)

    assert [hit.article.pk for hit in _suggest_invoices(cast.agent_a1.user)] == [
        second.pk,
        first.pk,
    ]


def test_usage_moves_an_article_up(cast, twins):
    first, second = twins

    article_usage_record(
        actor=cast.agent_a1.user,
        article=second,
        kind="linked_to_ticket",
        source="ticket",
        ticket_id=9,
    )

    assert [hit.article.pk for hit in _suggest_invoices(cast.agent_a1.user)] == [
        second.pk,
        first.pk,
    ]


def test_praise_cannot_lift_a_weak_match_over_a_strong_one(cast):
    strong = make_article(
        title="Invoice copy", body="How to get a copy of an invoice.", tags=["invoice", "copy"]
    )
    weak = make_article(
        title="Payment methods", body="Cards and transfers. " * 20 + "Ask for an invoice copy."
    )
    for index in range(30):
        voter = UserFactory(username=f"voter{index}")
        article_feedback_record(actor=voter, article=weak, helpful=True)
    article_feedback_record(actor=cast.agent_a1.user, article=strong, helpful=False)

    hits = _suggest_invoices(cast.agent_a1.user)

    assert [hit.article.pk for hit in hits] == [strong.pk, weak.pk]
