"""The ticket lifecycle: the one place that says which status change is legal.

    new -> open -> pending (customer / third party) -> open ... -> resolved -> closed
    resolved or closed -> reopen -> open

Services apply an action with `transition_target`; an illegal one raises Conflict (HTTP 409) before
anything is written.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.errors import Conflict, InvalidInput
from apps.tickets.models import PendingReason, Status


class Action(models.TextChoices):
    OPEN = "open", gettext_lazy("Start working")
    PEND = "pend", gettext_lazy("Wait for the customer or a third party")
    RESUME = "resume", gettext_lazy("Resume")
    RESOLVE = "resolve", gettext_lazy("Resolve")
    CLOSE = "close", gettext_lazy("Close")
    REOPEN = "reopen", gettext_lazy("Reopen")


# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    Action.OPEN: (frozenset({Status.NEW}), Status.OPEN),
    Action.PEND: (frozenset({Status.NEW, Status.OPEN}), Status.PENDING),
    Action.RESUME: (frozenset({Status.PENDING}), Status.OPEN),
    Action.RESOLVE: (frozenset({Status.NEW, Status.OPEN, Status.PENDING}), Status.RESOLVED),
    Action.CLOSE: (frozenset({Status.RESOLVED}), Status.CLOSED),
    Action.REOPEN: (frozenset({Status.RESOLVED, Status.CLOSED}), Status.OPEN),
}


def transition_target(status: str, action: str, *, pending_reason: str = "") -> str:
    """Return the status the action leads to from `status`; raise Conflict when it is illegal."""
    if action not in TRANSITIONS:
        raise InvalidInput(_("Unknown action."), field="action")
    sources, target = TRANSITIONS[action]
    if status not in sources:
        raise Conflict(
            _("'%(action)s' is not possible for a ticket in status %(status)s.")
            % {"status": Status(status).label, "action": action},
            code="illegal_transition",
        )
    if target == Status.PENDING and pending_reason not in PendingReason.values:
        raise InvalidInput(
            _("Say whether the ticket waits for the customer or a third party."),
            field="pending_reason",
        )
    return target


def allowed_actions(status: str) -> list[str]:
    """Return the actions legal from this status, in lifecycle order."""
    return [action for action, (sources, _target) in TRANSITIONS.items() if status in sources]
