"""Checks that reject impossible routing setups with a clear message (used by the admin forms).

Each function takes plain values and returns messages (empty: fine), so the rules are testable
without forms.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from django.utils.translation import gettext as _

from apps.routing.matching import required_tokens
from apps.routing.models import (
    TERMINAL_OVERFLOW_ACTIONS,
    AgentPresence,
    ExitAction,
    OverflowAction,
    Skill,
    Strategy,
)


def single_word_problem(value: str) -> str | None:
    """Return why a media, mailbox or extension cannot be given to FreeSWITCH, or None."""
    if any(character.isspace() for character in value) or "'" in value or "\\" in value:
        return _(
            "Use one word without spaces, quotes or backslashes (FreeSWITCH command arguments); "
            "join several files with file_string://first.wav!second.wav."
        )
    return None


def validate_queue_settings(
    *,
    strategy: str,
    sticky_window_seconds: int,
    max_wait_seconds: int,
    ring_timeout_seconds: int,
    announce_interval_seconds: int,
    announcement: str,
    closed_action: str,
    closed_target: str,
    full_action: str,
    full_target: str,
) -> dict[str, str]:
    """Return {field: message} for queue settings that cannot work together."""
    errors: dict[str, str] = {}
    if max_wait_seconds and ring_timeout_seconds > max_wait_seconds:
        errors["ring_timeout_seconds"] = _(
            "The ring timeout (%(ring)s s) is longer than the maximum wait (%(wait)s s): "
            "a caller would leave before an agent's phone stopped ringing."
        ) % {"ring": ring_timeout_seconds, "wait": max_wait_seconds}
    if strategy == Strategy.STICKY and not sticky_window_seconds:
        errors["sticky_window_seconds"] = _(
            "The sticky strategy needs a window: how long a call waits for the customer's last "
            "agent."
        )
    if announce_interval_seconds:
        try:
            announcement.format(position=1, minutes=1)
        except (KeyError, IndexError, ValueError):
            errors["announcement"] = _(
                "The announcement may only use {position} and {minutes} as placeholders."
            )
        if not announcement:
            errors["announcement"] = _("Announcements are on: choose what to play.")
        elif single_word_problem(announcement):
            errors["announcement"] = single_word_problem(announcement) or ""
    for action, target, field in (
        (closed_action, closed_target, "closed_target"),
        (full_action, full_target, "full_target"),
    ):
        if action == ExitAction.TRANSFER and not target:
            errors[field] = _("A transfer needs the extension to send callers to.")
        elif single_word_problem(target):
            errors[field] = single_word_problem(target) or ""
    return errors


@dataclass(frozen=True)
class RuleSpec:
    """An overflow rule as the admin form has it."""

    position: int
    after_seconds: int
    action: str
    relax_by: int = 0
    backup_team_count: int = 0
    backup_queue_id: int | None = None
    target: str = ""


def validate_overflow_rules(
    rules: Iterable[RuleSpec], *, queue_id: int | None, max_wait_seconds: int
) -> list[str]:
    """Return messages for overflow rules that are out of order or could never apply."""
    messages: list[str] = []
    ordered = sorted(rules, key=lambda rule: rule.position)
    for previous, rule in pairwise(ordered):
        if rule.after_seconds <= previous.after_seconds:
            messages.append(
                _(
                    "Overflow rules must apply in order: rule %(later)s (after %(later_s)s s) "
                    "comes after rule %(earlier)s (after %(earlier_s)s s) but does not apply "
                    "later."
                )
                % {
                    "later": rule.position,
                    "later_s": rule.after_seconds,
                    "earlier": previous.position,
                    "earlier_s": previous.after_seconds,
                }
            )
    for index, rule in enumerate(ordered):
        if rule.action in TERMINAL_OVERFLOW_ACTIONS and index < len(ordered) - 1:
            messages.append(
                _("Rule %(position)s ends the call, so the rules after it would never apply.")
                % {"position": rule.position}
            )
        if max_wait_seconds and rule.after_seconds >= max_wait_seconds:
            messages.append(
                _(
                    "Rule %(position)s (after %(after)s s) would never apply: callers leave at the "
                    "maximum wait (%(wait)s s)."
                )
                % {"position": rule.position, "after": rule.after_seconds, "wait": max_wait_seconds}
            )
        if rule.action == OverflowAction.RELAX_LEVELS and rule.relax_by < 1:
            messages.append(
                _("Rule %(position)s relaxes levels: say by how many (1 or more).")
                % {"position": rule.position}
            )
        if rule.action == OverflowAction.ADD_POOL:
            if not rule.backup_team_count and rule.backup_queue_id is None:
                messages.append(
                    _("Rule %(position)s adds backup agents: choose teams or a queue.")
                    % {"position": rule.position}
                )
            if queue_id is not None and rule.backup_queue_id == queue_id:
                messages.append(
                    _("Rule %(position)s names this queue as its own backup.")
                    % {"position": rule.position}
                )
        if single_word_problem(rule.target):
            messages.append(
                _("Rule %(position)s: %(problem)s")
                % {"position": rule.position, "problem": single_word_problem(rule.target)}
            )
        if rule.action == OverflowAction.MESSAGE_AND_END and not rule.target:
            messages.append(
                _("Rule %(position)s plays a message: choose the media.")
                % {"position": rule.position}
            )
    return messages


def validate_queue_staffable(*, requirements: dict[int, int], team_ids: list[int]) -> str | None:
    """Return a message when no active agent could ever take the queue's calls, else None."""
    tokens = required_tokens(requirements)
    agents = AgentPresence.objects.filter(agent__is_active=True, skill_tokens__contains=tokens)
    if team_ids:
        agents = agents.filter(agent__team_id__in=team_ids)
    if agents.exists():
        return None
    if not requirements:
        return _(
            "No active agent could answer this queue yet. Save it inactive until its agents "
            "are set up."
        )
    names = dict(Skill.objects.filter(pk__in=requirements).values_list("pk", "name"))
    wanted = ", ".join(
        sorted(
            f"{names.get(skill_id, skill_id)} >= {level}"
            for skill_id, level in requirements.items()
        )
    )
    if team_ids:
        return _(
            "No active agent of the serving teams has every required skill (%(skills)s): "
            "nobody could answer this queue. Give agents these skills first, or lower the levels."
        ) % {"skills": wanted}
    return _(
        "No active agent has every required skill (%(skills)s): nobody could answer this queue. "
        "Give agents these skills first, or lower the levels."
    ) % {"skills": wanted}
