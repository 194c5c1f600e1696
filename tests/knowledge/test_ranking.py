"""Feedback and usage move the ranking within bounds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from apps.knowledge.ranking import (
    FEEDBACK_WEIGHT,
    USAGE_WEIGHT,
    boosted_score,
    feedback_signal,
    ranking_boost,
    usage_signal,
)

counts = st.integers(min_value=0, max_value=10_000_000)


def test_an_article_without_votes_or_uses_keeps_its_text_score():
    assert ranking_boost(helpful=0, not_helpful=0, uses=0) == 0
    assert boosted_score(0.4, helpful=0, not_helpful=0, uses=0) == 0.4


def test_equal_votes_cancel_out():
    assert feedback_signal(7, 7) == 0


def test_usage_saturates():
    assert usage_signal(50) == 1.0
    assert usage_signal(5_000) == 1.0
    assert 0 < usage_signal(5) < usage_signal(20) < 1


@given(helpful=counts, not_helpful=counts, uses=counts)
def test_the_boost_stays_within_its_bounds(helpful, not_helpful, uses):
    boost = ranking_boost(helpful=helpful, not_helpful=not_helpful, uses=uses)

    assert -FEEDBACK_WEIGHT <= boost <= FEEDBACK_WEIGHT + USAGE_WEIGHT


@given(helpful=counts, not_helpful=counts, uses=counts)
def test_one_more_helpful_vote_never_lowers_the_score(helpful, not_helpful, uses):
    before = ranking_boost(helpful=helpful, not_helpful=not_helpful, uses=uses)
    after = ranking_boost(helpful=helpful + 1, not_helpful=not_helpful, uses=uses)

    assert after >= before


def test_a_first_vote_moves_the_score_less_than_many_votes():
    one = ranking_boost(helpful=1, not_helpful=0, uses=0)
    many = ranking_boost(helpful=40, not_helpful=0, uses=0)

    assert 0 < one < many < FEEDBACK_WEIGHT
