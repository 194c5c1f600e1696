"""Who may open which console and act on which call. Missing and forbidden answer the same
NotFound, so an id never tells whether the object exists.

- An agent opens their own console and acts on the calls they are on.
- A supervisor opens (views) the console of an agent of a team they supervise and may act on
  that agent's calls; an administrator may do so for every agent.
- Nobody else (QA analysts, API clients) uses the console.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from apps.accounts.models import Agent, User
from apps.accounts.selectors import agent_list_manageable
from apps.console.selectors import CallParties, call_parties
from apps.core.errors import Conflict, NotFound
from apps.telephony.models import Call, CallLeg


@dataclass(frozen=True)
class ConsoleSubject:
    """The agent whose console is open, and whether the actor is someone else viewing it."""

    agent: Agent
    viewing: bool


USE_CONSOLE = "console.use_console"


def user_may_use_console(user: object) -> bool:
    """Tell whether the user is active and holds the console permission (agents, supervisors,
    administrators)."""
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and user.has_perm(USE_CONSOLE)  # type: ignore[attr-defined]
    )


def access_console_agent(actor: User, agent_id: object | None = None) -> ConsoleSubject:
    """Return whose console the actor opens: their own (no ``agent_id``, or their own id), or
    an agent they supervise (``agent_id``)."""
    if not user_may_use_console(actor):
        raise NotFound(_("Agent not found."))
    own = Agent.objects.select_related("user", "team").filter(user=actor).first()
    if agent_id in (None, "") or (own is not None and str(own.pk) == str(agent_id)):
        if own is None or not own.is_active:
            raise NotFound(_("Agent not found."))
        return ConsoleSubject(agent=own, viewing=False)
    if not str(agent_id).isdigit():
        raise NotFound(_("Agent not found."))
    agent = agent_list_manageable(actor=actor).filter(pk=agent_id).first()
    if agent is None:
        raise NotFound(_("Agent not found."))
    return ConsoleSubject(agent=agent, viewing=True)


@dataclass(frozen=True)
class CallControlContext:
    """A call an actor may act on, for one agent, with that agent's view of its legs."""

    call: Call
    agent: Agent
    parties: CallParties


def _call_of_agent(actor: User, call_id: object, agent_id: object | None) -> tuple[Call, Agent]:
    """Return the call and the agent through whom the actor reaches it (any leg, open or not)."""
    if not str(call_id).isdigit():
        raise NotFound(_("Call not found."))
    subject = access_console_agent(actor, agent_id)
    agent = subject.agent
    call = Call.objects.filter(pk=call_id).select_related("node").first()
    if call is None or not CallLeg.objects.filter(call=call, agent=agent).exists():
        raise NotFound(_("Call not found."))
    return call, agent


def access_call_for_console(
    actor: User, call_id: object, agent_id: object | None = None
) -> tuple[Call, Agent]:
    """Return a call the agent took part in (ringing, live or ended) if the actor may see that
    agent's console: for the screen-pop sections and the wrap-up."""
    return _call_of_agent(actor, call_id, agent_id)


def access_call_control(
    actor: User, call_id: object, agent_id: object | None = None
) -> CallControlContext:
    """Return a live call the actor may control through the agent's leg.

    Raises NotFound when the actor may not reach the call, Conflict when the agent is no longer
    on it (the call or their leg has ended).
    """
    call, agent = _call_of_agent(actor, call_id, agent_id)
    parties = call_parties(call, agent)
    if parties.agent_leg is None:
        raise Conflict(_("The call has ended."), code="call_ended")
    return CallControlContext(call=call, agent=agent, parties=parties)


def access_callback_by_id(actor: User, callback_id: object, agent_id: object | None = None) -> Any:
    """Return a scheduled callback of the agent whose console the actor may open."""
    from apps.console.models import ScheduledCallback

    subject = access_console_agent(actor, agent_id)
    callback = (
        ScheduledCallback.objects.filter(pk=callback_id, agent=subject.agent).first()
        if str(callback_id).isdigit()
        else None
    )
    if callback is None:
        raise NotFound(_("Callback not found."))
    return callback
