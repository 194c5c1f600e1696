"""How feedback and usage move an article up or down, within bounds.

Text relevance stays the main signal: the final score is the search score times (1 + boost), and
the boost lies in [-FEEDBACK_WEIGHT, FEEDBACK_WEIGHT + USAGE_WEIGHT], so a well-liked article
cannot bury a much better match, and a few early votes move it only a little (the helpful ratio is
smoothed towards one half until votes accumulate).
"""

from __future__ import annotations

import math

FEEDBACK_WEIGHT = 0.5
USAGE_WEIGHT = 0.25
# Uses beyond this count no longer add to the boost.
USAGE_SATURATION = 50
# Votes added on each side before computing the helpful ratio (Laplace smoothing).
FEEDBACK_PRIOR = 2


def feedback_signal(helpful: int, not_helpful: int) -> float:
    """Return the smoothed helpful ratio mapped to (-1, 1): 0 without votes."""
    ratio = (helpful + FEEDBACK_PRIOR) / (helpful + not_helpful + 2 * FEEDBACK_PRIOR)
    return 2 * ratio - 1


def usage_signal(uses: int) -> float:
    """Return the use count on a logarithmic scale in [0, 1]."""
    return min(math.log1p(max(uses, 0)) / math.log1p(USAGE_SATURATION), 1.0)


def ranking_boost(*, helpful: int, not_helpful: int, uses: int) -> float:
    """Return the bounded boost of an article's feedback and usage."""
    return FEEDBACK_WEIGHT * feedback_signal(helpful, not_helpful) + USAGE_WEIGHT * usage_signal(
        uses
    )


def boosted_score(text_score: float, *, helpful: int, not_helpful: int, uses: int) -> float:
    """Return the final score of a search hit."""
    return text_score * (1 + ranking_boost(helpful=helpful, not_helpful=not_helpful, uses=uses))
