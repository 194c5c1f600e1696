"""Skill requirements as integer tokens: "has every skill at its minimum level" is one array test.

An agent holding skill ``s`` at level ``L`` carries the tokens ``s*16+1 .. s*16+L``; a requirement
of skill ``s`` at minimum level ``m`` is the single token ``s*16+m``. The agent qualifies exactly
when their tokens contain every required token (``agent_tokens @> required_tokens`` in PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

MIN_LEVEL = 1
MAX_LEVEL = 10
_STRIDE = 16


def skill_token(skill_id: int, level: int) -> int:
    """Return the token meaning "skill at this level (or more)"."""
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ValueError(f"Skill level must be {MIN_LEVEL}..{MAX_LEVEL}, got {level}.")
    return skill_id * _STRIDE + level


def agent_tokens(levels: Mapping[int, int]) -> list[int]:
    """Return the sorted tokens of an agent holding {skill_id: level}."""
    return sorted(
        skill_token(skill_id, level)
        for skill_id, top in levels.items()
        for level in range(MIN_LEVEL, top + 1)
    )


def required_tokens(requirements: Mapping[int, int], *, relax_by: int = 0) -> list[int]:
    """Return the sorted tokens of {skill_id: minimum level}, each lowered by ``relax_by``.

    A requirement relaxed to level 0 or below is dropped: any agent of the pool may take the call.
    """
    tokens = []
    for skill_id, minimum in requirements.items():
        level = min(minimum, MAX_LEVEL) - relax_by
        if level >= MIN_LEVEL:
            tokens.append(skill_token(skill_id, level))
    return sorted(tokens)


def score_tokens(skill_ids: Iterable[int]) -> list[int]:
    """Return every token of these skills: an agent's count of them is the sum of their levels."""
    return sorted(
        skill_token(skill_id, level)
        for skill_id in skill_ids
        for level in range(MIN_LEVEL, MAX_LEVEL + 1)
    )


def qualifies(agent: Iterable[int], required: Iterable[int]) -> bool:
    """Tell whether an agent with these tokens meets every requirement."""
    return set(required) <= set(agent)


def merge_requirements(*parts: Mapping[int, int]) -> dict[int, int]:
    """Return the union of requirements, keeping the highest minimum level of each skill."""
    merged: dict[int, int] = {}
    for part in parts:
        for skill_id, level in part.items():
            merged[skill_id] = max(merged.get(skill_id, 0), level)
    return merged
