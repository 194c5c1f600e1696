"""Helpful feedback (one verdict per user) and usage counts (opens, links to tickets)."""

from __future__ import annotations

import pytest

from apps.core.errors import InvalidInput
from apps.knowledge.models import ArticleFeedback, ArticleUsage
from apps.knowledge.services import article_feedback_record, article_usage_record
from tests.knowledge.helpers import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def article():
    return make_article(title="Refund policy", body="Refunds within 30 days.")


def test_feedback_is_counted_per_user_and_a_new_verdict_replaces_the_old(cast, article):
    article_feedback_record(actor=cast.agent_a1.user, article=article, helpful=True)
    article_feedback_record(actor=cast.agent_a2.user, article=article, helpful=True)
    article_feedback_record(
        actor=cast.agent_b1.user,
        article=article,
        helpful=False,
        comment="Out of date",
        call_uuid="c0ffee",
    )
    article_feedback_record(actor=cast.agent_a2.user, article=article, helpful=False)

    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (1, 2)
    assert ArticleFeedback.objects.filter(article=article).count() == 3
    verdict = ArticleFeedback.objects.get(article=article, user=cast.agent_b1.user)
    assert (verdict.comment, verdict.call_uuid) == ("Out of date", "c0ffee")


def test_feedback_does_not_make_a_version(cast, article):
    article_feedback_record(actor=cast.agent_a1.user, article=article, helpful=True)

    article.refresh_from_db()
    assert article.version == 1
    assert article.versions.count() == 1


def test_opening_an_article_counts_each_time(cast, article):
    for source in ("suggestion", "search", "suggestion"):
        _, created = article_usage_record(
            actor=cast.agent_a1.user,
            article=article,
            kind="opened",
            source=source,
            call_uuid="abc",
        )
        assert created

    article.refresh_from_db()
    assert article.open_count == 3
    assert list(
        ArticleUsage.objects.filter(article=article, source="suggestion").values_list(
            "kind", "call_uuid"
        )
    ) == [("opened", "abc"), ("opened", "abc")]


def test_linking_to_a_ticket_counts_once_per_ticket(cast, article):
    first, created_first = article_usage_record(
        actor=cast.agent_a1.user,
        article=article,
        kind="linked_to_ticket",
        source="ticket",
        ticket_id=42,
    )
    again, created_again = article_usage_record(
        actor=cast.agent_a2.user,
        article=article,
        kind="linked_to_ticket",
        source="ticket",
        ticket_id=42,
    )
    article_usage_record(
        actor=cast.agent_a1.user,
        article=article,
        kind="linked_to_ticket",
        source="ticket",
        ticket_id=43,
    )

    article.refresh_from_db()
    assert (created_first, created_again, again.pk) == (True, False, first.pk)
    assert (article.ticket_link_count, article.open_count) == (2, 0)


@pytest.mark.parametrize(
    ("kind", "source", "field"),
    [
        ("linked_to_ticket", "ticket", "ticket_id"),  # a link without its ticket
        ("printed", "search", "kind"),
        ("opened", "fax", "source"),
    ],
)
def test_bad_usage_is_refused_and_counts_nothing(cast, article, kind, source, field):
    with pytest.raises(InvalidInput) as refused:
        article_usage_record(actor=cast.agent_a1.user, article=article, kind=kind, source=source)

    assert refused.value.field == field
    article.refresh_from_db()
    assert (article.open_count, article.ticket_link_count) == (0, 0)
    assert not ArticleUsage.objects.exists()
