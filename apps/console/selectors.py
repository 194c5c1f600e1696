"""Reads of the agent console: the snapshot a tab starts from, the screen-pop and its sections.

The screen-pop core (call, caller, matched customer, queue, IVR path) is built once per phase
for the agent the call rings for and pushed to their group; the sections that depend on who
looks (history, open tickets, suggested articles) are read per request, scoped by the actor.
Other apps are reached through ``integrations`` so a part appears once its app provides it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min, Q
from django.utils import timezone

from apps.accounts.models import Agent, User
from apps.console import integrations
from apps.console.models import DispositionCode, Notification, ScheduledCallback, WrapUp
from apps.telephony.models import Call, CallLeg

logger = logging.getLogger(__name__)

SCREEN_POP_CACHE_KEY = "console:screen-pop:{call_id}"
SCREEN_POP_CACHE_SECONDS = 3600
RECENT_LIMIT = 10
HISTORY_LIMIT = 10
TICKETS_LIMIT = 10
ARTICLES_LIMIT = 5
NOTIFICATIONS_LIMIT = 30
CUSTOMER_ROLES = (CallLeg.Role.CALLER, CallLeg.Role.CALLEE)


def iso(value: dt.datetime | None) -> str | None:
    """Return an aware datetime as ISO 8601 (None stays None)."""
    return value.isoformat() if value is not None else None


# ------------------------------------------------------------------------------ agent presence


def agent_presence(agent: Agent) -> dict[str, Any]:
    """Return the agent's routing state (offline when routing has no record of them)."""
    presence_model = integrations.model("routing.AgentPresence")
    presence = (
        presence_model.objects.filter(agent=agent).first() if presence_model is not None else None
    )
    if presence is None:
        return {
            "agent_id": agent.pk,
            "state": "offline",
            "reason": "",
            "since": None,
            "wrap_up_until": None,
        }
    return {
        "agent_id": agent.pk,
        "state": presence.state,
        "reason": presence.reason,
        "since": iso(presence.state_since),
        "wrap_up_until": iso(presence.wrap_up_until),
    }


def state_choices() -> dict[str, Any]:
    """Return the states and not-ready reasons an agent may choose, with their labels."""
    state_enum = integrations.optional("apps.routing.models", "AgentState")
    reason_enum = integrations.optional("apps.routing.models", "NotReadyReason")
    requestable = integrations.optional("apps.routing.services", "REQUESTABLE_REASONS")
    labels = {value: str(label) for value, label in state_enum.choices} if state_enum else {}
    reasons = []
    if reason_enum is not None:
        reasons = [
            {"value": value, "label": str(label)}
            for value, label in reason_enum.choices
            if requestable is None or value in requestable
        ]
    return {"labels": labels, "reasons": reasons}


# --------------------------------------------------------------------------------------- queues


def _agent_skill_levels(agent: Agent) -> dict[int, int]:
    agent_skill = integrations.model("routing.AgentSkill")
    if agent_skill is None:
        return {}
    return dict(agent_skill.objects.filter(agent=agent).values_list("skill_id", "level"))


def agent_queue_list(agent: Agent) -> list[Any]:
    """Return the active queues the agent serves: their team's, and team-less ones they qualify
    for (every required skill at its minimum level)."""
    queue_model = integrations.model("routing.Queue")
    if queue_model is None:
        return []
    queues = queue_model.objects.filter(is_active=True).prefetch_related("required_skills")
    team_filter = Q(teams__isnull=True)
    if agent.team_id is not None:
        team_filter |= Q(teams=agent.team_id)
    candidates = list(queues.filter(team_filter).distinct().order_by("name"))
    team_queue_ids = (
        set(queues.filter(teams=agent.team_id).values_list("pk", flat=True))
        if agent.team_id is not None
        else set()
    )
    levels: dict[int, int] | None = None
    served = []
    for queue in candidates:
        if queue.pk in team_queue_ids:
            served.append(queue)
            continue
        if levels is None:
            levels = _agent_skill_levels(agent)
        required = [(item.skill_id, item.min_level) for item in queue.required_skills.all()]
        if all(levels.get(skill, 0) >= minimum for skill, minimum in required):
            served.append(queue)
    return served


def queue_stats(queue_ids: list[int], *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Return each queue's callers waiting and how long the longest has waited."""
    waiting_model = integrations.model("routing.WaitingCall")
    in_line = integrations.optional("apps.routing.models", "IN_LINE_STATES")
    now = now or timezone.now()
    rows: dict[int, dict[str, Any]] = {}
    if waiting_model is not None and in_line is not None and queue_ids:
        rows = {
            row["queue_id"]: row
            for row in waiting_model.objects.filter(queue_id__in=queue_ids, state__in=in_line)
            .values("queue_id")
            .annotate(waiting=Count("id"), oldest=Min("enqueued_at"))
        }
    stats = []
    for queue_id in queue_ids:
        row = rows.get(queue_id)
        oldest = row["oldest"] if row else None
        stats.append(
            {
                "queue_id": queue_id,
                "waiting": row["waiting"] if row else 0,
                "oldest_enqueued_at": iso(oldest),
                "longest_wait_seconds": int((now - oldest).total_seconds()) if oldest else 0,
                "as_of": now.isoformat(),
            }
        )
    return stats


def queue_summary(slug: str) -> dict[str, Any] | None:
    """Return a queue's id, slug and name (None when there is no such queue)."""
    if not slug:
        return None
    queue_model = integrations.model("routing.Queue")
    if queue_model is None:
        return {"id": None, "slug": slug, "name": slug}
    queue = queue_model.objects.filter(slug=slug).only("pk", "slug", "name").first()
    if queue is None:
        return {"id": None, "slug": slug, "name": slug}
    return {"id": queue.pk, "slug": queue.slug, "name": queue.name}


# ------------------------------------------------------------------------------------ customers


def customer_number(call: Call) -> str:
    """Return the customer's side of the call: the caller of an inbound call, else the callee."""
    return call.caller_number if call.direction == Call.Direction.INBOUND else call.callee_number


def normalized_number(raw: str) -> str | None:
    """Return the number in E.164 when the customers app can normalise it."""
    normalize = integrations.function("phone_normalize")
    if normalize is None or not raw:
        return None
    return normalize(raw)


def call_customer(call: Call) -> Any | None:
    """Return the customer of a call: the IVR's identification, else a lookup of the customer's
    number in any format (E.164, Chinese mobile...)."""
    customer_model = integrations.model("customers.Customer")
    if customer_model is None:
        return None
    if call.customer_id:
        customer = customer_model.objects.filter(pk=call.customer_id).first()
        while customer is not None and customer.merged_into_id is not None:
            customer = customer_model.objects.filter(pk=customer.merged_into_id).first()
        if customer is not None:
            return customer
    find = integrations.function("customer_find_by_phone")
    number = customer_number(call)
    return find(number) if find is not None and number else None


def customer_card(customer: Any) -> dict[str, Any]:
    """Return what the screen-pop shows of a customer; sensitive fields only masked."""
    sensitive = []
    for field in getattr(customer, "SENSITIVE_FIELDS", ()):
        value = getattr(customer, field, "")
        if value:
            sensitive.append(
                {
                    "field": field,
                    "label": str(customer._meta.get_field(field).verbose_name),
                    "masked": getattr(customer, f"{field}_masked", "****"),
                }
            )
    return {
        "id": customer.pk,
        "name": customer.name or str(customer),
        "company": getattr(customer, "company", ""),
        "vip_tier": customer.vip_tier,
        "vip_tier_label": str(customer.get_vip_tier_display()),
        "language": customer.language,
        "language_label": str(customer.get_language_display()) if customer.language else "",
        "tags": list(customer.tags or []),
        "sensitive": sensitive,
    }


# ------------------------------------------------------------------------------------------ IVR


def ivr_summary(call: Call) -> dict[str, Any] | None:
    """Return the caller's way through the IVR: each step, and what they entered or chose."""
    if not call.ivr_path_ref or not call.ivr_path_ref.isdigit():
        return None
    path_model = integrations.model("ivr.IvrPath")
    if path_model is None:
        return None
    path = path_model.objects.filter(pk=int(call.ivr_path_ref)).first()
    if path is None:
        return None
    node_model = integrations.model("ivr.FlowNode")
    labels: dict[str, str] = {}
    if node_model is not None and path.version_id:
        labels = dict(
            node_model.objects.filter(version_id=path.version_id).values_list("key", "label")
        )
    steps = []
    inputs = []
    for step in path.steps.order_by("seq"):
        label = labels.get(step.node) or step.node
        if step.event in ("enter", "input", "branch", "exit", "timeout", "invalid", "failed"):
            steps.append(
                {
                    "node": step.node,
                    "label": label,
                    "event": step.event,
                    "event_label": str(step.get_event_display()),
                    "detail": step.detail,
                }
            )
        if step.event == "input":
            inputs.append({"node": step.node, "label": label, "value": step.detail})
    return {
        "path_id": path.pk,
        "language": path.language,
        "outcome": path.outcome,
        "outcome_label": str(path.get_outcome_display()),
        "steps": steps,
        "inputs": inputs,
        "choices": [entry["label"] for entry in inputs if entry["label"]],
    }


# ----------------------------------------------------------------------------------- the call


@dataclass(frozen=True)
class CallParties:
    """The open legs of a call as one agent sees them."""

    agent_leg: CallLeg | None
    customer_leg: CallLeg | None
    consult_leg: CallLeg | None


def call_parties(call: Call, agent: Agent) -> CallParties:
    """Return the agent's own open leg, the customer's and a consultation leg (if any)."""
    legs = list(CallLeg.objects.filter(call=call, ended_at__isnull=True).order_by("started_at"))
    agent_leg = next((leg for leg in reversed(legs) if leg.agent_id == agent.pk), None)
    customer_leg = next((leg for leg in legs if leg.role in CUSTOMER_ROLES), None)
    consult_leg = next(
        (
            leg
            for leg in reversed(legs)
            if leg.role == CallLeg.Role.CONSULT and leg.agent_id != agent.pk
        ),
        None,
    )
    return CallParties(agent_leg=agent_leg, customer_leg=customer_leg, consult_leg=consult_leg)


def interaction_status(parties: CallParties) -> str:
    """Return how the agent's side of the call stands: ringing, talking, held, consulting, ended."""
    leg = parties.agent_leg
    if leg is None:
        return "ended"
    if leg.answered_at is None:
        return "ringing"
    if leg.is_held:
        return "held"
    if parties.consult_leg is not None:
        return "consulting"
    return "talking"


def call_summary(call: Call) -> dict[str, Any]:
    """Return the call's identity and public facts for the console."""
    number = customer_number(call)
    return {
        "id": call.pk,
        "uuid": call.uuid,
        "direction": call.direction,
        "number": number,
        "number_e164": normalized_number(number),
        "caller_name": call.caller_name,
        "did": call.did,
        "queue_slug": call.queue_slug,
        "language": call.cc_variables.get("cc_language", ""),
        "started_at": iso(call.started_at),
        "answered_at": iso(call.answered_at),
        "ended_at": iso(call.ended_at),
    }


def screen_pop_build(*, call: Call) -> dict[str, Any]:
    """Return the screen-pop core of a call: caller, matched customer, queue and IVR path."""
    customer = call_customer(call)
    return {
        "call": call_summary(call),
        "customer": customer_card(customer) if customer is not None else None,
        "queue": queue_summary(call.queue_slug),
        "ivr": ivr_summary(call),
    }


def screen_pop_core(*, call_id: int) -> dict[str, Any] | None:
    """Return a call's screen-pop core from the cache, building it on a miss (None: no call).

    The core is built once per call, normally when the caller enters the queue, so that
    popping the agent's screen when their phone rings costs one cache read.
    """
    key = SCREEN_POP_CACHE_KEY.format(call_id=call_id)
    core = cache.get(key)
    if core is not None:
        return core
    call = Call.objects.filter(pk=call_id).first()
    if call is None:
        return None
    core = screen_pop_build(call=call)
    cache.set(key, core, SCREEN_POP_CACHE_SECONDS)
    return core


def screen_pop_cached(*, call: Call) -> dict[str, Any]:
    """Return the call's screen-pop core with the call's own facts as of now."""
    core = screen_pop_core(call_id=call.pk) or screen_pop_build(call=call)
    # The call's own facts move on (answered, ended); the rest is stable for its duration.
    return {**core, "call": call_summary(call)}


def screen_pop_forget(*, call_id: int) -> None:
    """Drop a call's cached screen-pop (its customer changed)."""
    cache.delete(SCREEN_POP_CACHE_KEY.format(call_id=call_id))


# ------------------------------------------------------------------- sections, per actor


def _section(available: bool, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"available": available, "items": items}


def screen_pop_history(*, actor: User, call: Call) -> dict[str, Any]:
    """Return the customer's recent interactions on every channel that the actor may read."""
    interaction_list = integrations.function("interaction_list")
    customer = call_customer(call)
    if interaction_list is None:
        return _section(False, [])
    if customer is None:
        return _section(True, [])
    items = []
    for interaction in interaction_list(actor=actor, customer=customer)[:HISTORY_LIMIT]:
        refs = interaction.refs or {}
        items.append(
            {
                "id": interaction.pk,
                "channel": interaction.channel,
                "channel_label": str(interaction.get_channel_display()),
                "direction": interaction.direction,
                "direction_label": str(interaction.get_direction_display()),
                "occurred_at": iso(interaction.occurred_at),
                "summary": interaction.summary,
                "agent": str(interaction.agent) if interaction.agent_id else "",
                "reference": refs.get("reference", ""),
            }
        )
    return _section(True, items)


def screen_pop_tickets(*, actor: User, call: Call) -> dict[str, Any]:
    """Return the customer's open tickets that the actor may see, newest first."""
    open_tickets = integrations.function("ticket_list_open_for_customer")
    customer = call_customer(call)
    if open_tickets is None:
        return _section(False, [])
    if customer is None:
        return _section(True, [])
    items = [
        {
            "id": ticket.pk,
            "reference": ticket.reference,
            "subject": ticket.subject,
            "status": ticket.status,
            "status_label": str(ticket.get_status_display()),
            "priority": ticket.priority,
            "priority_label": str(ticket.get_priority_display()),
            "created_at": iso(ticket.created_at),
            "resolution_due_at": iso(getattr(ticket, "resolution_due_at", None)),
        }
        for ticket in open_tickets(actor=actor, customer_id=customer.pk)[:TICKETS_LIMIT]
    ]
    return _section(True, items)


def screen_pop_articles(*, actor: User, call: Call) -> dict[str, Any]:
    """Return knowledge-base articles suggested by the IVR choices, queue and customer language."""
    suggest = integrations.function("article_suggest")
    context_class = integrations.optional("apps.knowledge.selectors", "SuggestionContext")
    if suggest is None or context_class is None:
        return _section(False, [])
    core = screen_pop_cached(call=call)
    ivr = core.get("ivr") or {}
    queue = core.get("queue") or {}
    customer = core.get("customer") or {}
    skills = [
        item.strip().partition(":")[0]
        for item in call.cc_variables.get("cc_skills", "").split(",")
        if item.strip()
    ]
    context = context_class(
        ivr_path=tuple(ivr.get("choices") or ()),
        queue_name=queue.get("name", ""),
        queue_slug=queue.get("slug", ""),
        skills=tuple(skills),
        language=customer.get("language") or call.cc_variables.get("cc_language", ""),
    )
    items = [
        {
            "id": hit.article.pk,
            "title": hit.article.title,
            "summary": hit.article.summary,
            "language": hit.article.language,
            "score": round(hit.score, 4),
        }
        for hit in suggest(actor=actor, context=context, limit=ARTICLES_LIMIT)
    ]
    return _section(True, items)


# ---------------------------------------------------------------------------- wrap-up lists


def disposition_list_for_call(call: Call | None) -> list[DispositionCode]:
    """Return the active disposition codes for the call's queue, then the global ones."""
    codes = DispositionCode.objects.filter(is_active=True).select_related("queue")
    queue_id = None
    if call is not None and call.queue_slug:
        summary = queue_summary(call.queue_slug)
        queue_id = summary["id"] if summary else None
    scope = Q(queue__isnull=True)
    if queue_id is not None:
        scope |= Q(queue_id=queue_id)
    return list(codes.filter(scope).order_by("position", "label", "id"))


def disposition_payload(code: DispositionCode) -> dict[str, Any]:
    return {
        "id": code.pk,
        "code": code.code,
        "label": code.label,
        "requires_notes": code.requires_notes,
        "queue_id": code.queue_id,
    }


def wrap_up_payload(wrap_up: WrapUp | None) -> dict[str, Any] | None:
    if wrap_up is None:
        return None
    return {
        "id": wrap_up.pk,
        "disposition": disposition_payload(wrap_up.disposition) if wrap_up.disposition else None,
        "notes": wrap_up.notes,
        "ticket_id": wrap_up.ticket_id,
        "ticket_reference": wrap_up.ticket_reference,
        "callback_id": wrap_up.callback_id,
        "created_at": iso(wrap_up.created_at),
    }


# ------------------------------------------------------------------ interactions of the agent


def _latest_agent_leg(agent: Agent) -> CallLeg | None:
    return (
        CallLeg.objects.filter(agent=agent)
        .select_related("call")
        .order_by("-started_at", "-id")
        .first()
    )


def current_interaction(agent: Agent) -> dict[str, Any] | None:
    """Return the call the agent is on (or ringing for), or their last one while it awaits a
    wrap-up; None when the agent has nothing in hand."""
    open_leg = (
        CallLeg.objects.filter(agent=agent, ended_at__isnull=True)
        .select_related("call")
        .order_by("-started_at", "-id")
        .first()
    )
    leg = open_leg or _latest_agent_leg(agent)
    if leg is None:
        return None
    call = leg.call
    wrap_up = (
        WrapUp.objects.filter(call_uuid=call.uuid, agent=agent)
        .select_related("disposition")
        .first()
    )
    if open_leg is None and (wrap_up is not None or not _awaits_wrap_up(agent, leg)):
        return None
    parties = call_parties(call, agent)
    return {
        "call_id": call.pk,
        "status": interaction_status(parties),
        "agent_leg_uuid": parties.agent_leg.uuid if parties.agent_leg else leg.uuid,
        "customer_leg_uuid": parties.customer_leg.uuid if parties.customer_leg else None,
        "consult_leg_uuid": parties.consult_leg.uuid if parties.consult_leg else None,
        "held": bool(parties.agent_leg and parties.agent_leg.is_held),
        "answered_at": iso(leg.answered_at),
        "screen_pop": screen_pop_cached(call=call),
        "wrap_up": wrap_up_payload(wrap_up),
    }


def _awaits_wrap_up(agent: Agent, leg: CallLeg) -> bool:
    """Tell whether an ended call still needs the agent's wrap-up: they answered it and either
    routing keeps them in wrap-up or it ended within the console's wrap-up window."""
    if leg.answered_at is None or leg.ended_at is None:
        return False
    if agent_presence(agent)["state"] == "wrap_up":
        return True
    window = getattr(settings, "CONSOLE_WRAP_UP_WINDOW_SECONDS", 15 * 60)
    return timezone.now() - leg.ended_at <= dt.timedelta(seconds=window)


def recent_interactions(agent: Agent, *, limit: int = RECENT_LIMIT) -> list[dict[str, Any]]:
    """Return the agent's latest calls, newest first, with the customer and the disposition."""
    legs = list(
        CallLeg.objects.filter(agent=agent)
        .select_related("call")
        .order_by("-started_at", "-id")[: limit * 2]
    )
    seen: set[int] = set()
    calls: list[tuple[CallLeg, Call]] = []
    for leg in legs:
        if leg.call_id in seen:
            continue
        seen.add(leg.call_id)
        calls.append((leg, leg.call))
        if len(calls) == limit:
            break
    wrap_ups = {
        wrap_up.call_uuid: wrap_up
        for wrap_up in WrapUp.objects.filter(
            agent=agent, call_uuid__in=[call.uuid for _leg, call in calls]
        ).select_related("disposition")
    }
    customer_model = integrations.model("customers.Customer")
    names: dict[int, str] = {}
    ids = {call.customer_id for _leg, call in calls if call.customer_id}
    if customer_model is not None and ids:
        names = {
            pk: name or ""
            for pk, name in customer_model.objects.filter(pk__in=ids).values_list("pk", "name")
        }
    items = []
    for leg, call in calls:
        wrap_up = wrap_ups.get(call.uuid)
        items.append(
            {
                "call_id": call.pk,
                "number": customer_number(call),
                "customer_name": names.get(call.customer_id or 0, ""),
                "direction": call.direction,
                "queue_slug": call.queue_slug,
                "started_at": iso(leg.started_at),
                "answered_at": iso(leg.answered_at),
                "ended_at": iso(leg.ended_at),
                "talk_seconds": (
                    int((leg.ended_at - leg.answered_at).total_seconds())
                    if leg.answered_at and leg.ended_at
                    else None
                ),
                "disposition": wrap_up.disposition.label if wrap_up and wrap_up.disposition else "",
                "wrapped_up": wrap_up is not None,
            }
        )
    return items


# ------------------------------------------------------------------ notifications, callbacks


def notification_payload(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "message": notification.message,
        "data": notification.data,
        "created_at": iso(notification.created_at),
        "read_at": iso(notification.read_at),
    }


def notification_list_unread(*, user: User) -> list[dict[str, Any]]:
    """Return the user's unread notifications, newest first."""
    return [
        notification_payload(notification)
        for notification in Notification.objects.filter(user=user, read_at__isnull=True)[
            :NOTIFICATIONS_LIMIT
        ]
    ]


def callback_payload(callback: ScheduledCallback) -> dict[str, Any]:
    return {
        "id": callback.pk,
        "number": callback.number,
        "customer_id": callback.customer_id,
        "due_at": iso(callback.due_at),
        "queue_slug": callback.queue_slug,
        "notes": callback.notes,
        "status": callback.status,
        "status_label": str(callback.get_status_display()),
        "call_id": callback.call_id,
    }


def callback_list_open(*, agent: Agent) -> list[dict[str, Any]]:
    """Return the agent's callbacks still to make, soonest first."""
    open_states = (ScheduledCallback.Status.SCHEDULED, ScheduledCallback.Status.DUE)
    return [
        callback_payload(callback)
        for callback in ScheduledCallback.objects.filter(agent=agent, status__in=open_states)[:50]
    ]


# ---------------------------------------------------------------------------- transfer targets


def transfer_targets(*, agent: Agent) -> dict[str, Any]:
    """Return where the agent may transfer a call: their team's other active agents (with their
    state) and the active queues."""
    agents = Agent.objects.filter(is_active=True, user__is_active=True).select_related("user")
    agents = agents.filter(team_id=agent.team_id) if agent.team_id else agents.none()
    presence_model = integrations.model("routing.AgentPresence")
    states: dict[int, str] = {}
    if presence_model is not None:
        states = dict(
            presence_model.objects.filter(agent__in=agents).values_list("agent_id", "state")
        )
    queue_model = integrations.model("routing.Queue")
    queues = (
        list(queue_model.objects.filter(is_active=True).order_by("name"))
        if queue_model is not None
        else []
    )
    return {
        "agents": [
            {
                "id": other.pk,
                "name": str(other.user),
                "extension": other.extension,
                "state": states.get(other.pk, "offline"),
            }
            for other in agents.exclude(pk=agent.pk).order_by("extension")
        ],
        "queues": [{"id": queue.pk, "slug": queue.slug, "name": queue.name} for queue in queues],
        "external": True,
    }


# ------------------------------------------------------------------------------------ snapshot


def console_snapshot(*, actor: User, agent: Agent, viewing: bool) -> dict[str, Any]:
    """Return everything a console tab shows, as of now: sent on connect and on every resync."""
    now = timezone.now()
    queues = agent_queue_list(agent)
    stats = {item["queue_id"]: item for item in queue_stats([q.pk for q in queues], now=now)}
    return {
        "server_time": now.isoformat(),
        "viewer": {
            "user_id": actor.pk,
            "name": str(actor),
            "viewing": viewing,
            "can_reveal": actor.has_perm("customers.reveal_sensitive"),
            "can_control": actor.has_perm("console.use_console"),
        },
        "agent": {
            "id": agent.pk,
            "user_id": agent.user_id,
            "name": str(agent.user),
            "extension": agent.extension,
            "endpoint": agent.endpoint,
            "team_id": agent.team_id,
        },
        "state": agent_presence(agent),
        "state_choices": state_choices(),
        "queues": [
            {"id": queue.pk, "slug": queue.slug, "name": queue.name, **stats[queue.pk]}
            for queue in queues
        ],
        "interaction": current_interaction(agent),
        "recent": recent_interactions(agent),
        "notifications": notification_list_unread(user=actor),
        "callbacks": callback_list_open(agent=agent),
        "features": {
            "wrap_up_extend": integrations.function("wrap_up_extend") is not None,
            "state_change": integrations.function("agent_set_state") is not None,
            "tickets": integrations.function("ticket_create_from_call") is not None,
            "customers": integrations.function("customer_create") is not None,
        },
    }
