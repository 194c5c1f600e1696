"""Reads of routing, scoped by the acting user, and the live figures supervisors watch.

Who sees which queues: administrators all; supervisors the queues their teams serve; QA analysts
the queues assigned to them (guardian ``routing.review_queue``); agents the queues their team
serves and the queues open to every team.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Case, Count, F, Min, Q, QuerySet, When
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from apps.accounts.models import Agent, User
from apps.accounts.selectors import agent_list_manageable, agent_list_visible, team_list_supervised
from apps.rbac import roles
from apps.rbac.services import user_has_role, user_is_admin
from apps.routing import conf, erlang
from apps.routing.estimates import estimate_wait_seconds
from apps.routing.matching import required_tokens
from apps.routing.models import (
    IN_LINE_STATES,
    AgentPresence,
    AgentState,
    Queue,
    WaitingCall,
    WaitingCallState,
)

STAFFED_STATES = (
    AgentState.AVAILABLE,
    AgentState.RESERVED,
    AgentState.ON_CALL,
    AgentState.WRAP_UP,
)


# ------------------------------------------------------------------------------------- scoping


def queue_list_visible(*, actor: User) -> QuerySet[Queue]:
    """Return the queues the actor may see (see the module docstring)."""
    if user_is_admin(actor):
        return Queue.objects.all()
    visible = Q(pk__in=[])
    if user_has_role(actor, roles.SUPERVISOR):
        visible |= Q(teams__in=team_list_supervised(actor=actor))
    if user_has_role(actor, roles.QA_ANALYST):
        reviewed = get_objects_for_user(
            actor, "routing.review_queue", klass=Queue, accept_global_perms=False
        )
        visible |= Q(pk__in=reviewed.values("pk"))
    if user_has_role(actor, roles.AGENT):
        team_id = Agent.objects.filter(user=actor).values_list("team_id", flat=True).first()
        visible |= Q(teams__isnull=True)
        if team_id is not None:
            visible |= Q(teams=team_id)
    return Queue.objects.filter(pk__in=Queue.objects.filter(visible).values("pk"))


def queue_list_supervised(*, actor: User) -> QuerySet[Queue]:
    """Return the queues the actor acts on as a supervisor: those their teams serve."""
    if user_is_admin(actor):
        return Queue.objects.all()
    if not user_has_role(actor, roles.SUPERVISOR):
        return Queue.objects.none()
    return Queue.objects.filter(
        pk__in=Queue.objects.filter(teams__in=team_list_supervised(actor=actor)).values("pk")
    )


def agent_presence_list_visible(*, actor: User) -> QuerySet[AgentPresence]:
    """Return the presence rows of the agents the actor may see."""
    return AgentPresence.objects.select_related("agent__user", "agent__team").filter(
        agent__in=agent_list_visible(actor=actor)
    )


def agent_may_change(*, actor: User, agent: Agent) -> bool:
    """Tell whether the actor may set this agent's state: themselves, their supervisor, admins."""
    return (
        agent.user_id == actor.pk or agent_list_manageable(actor=actor).filter(pk=agent.pk).exists()
    )


def waiting_call_list_for_queue(*, queue: Queue) -> QuerySet[WaitingCall]:
    """Return the calls in a queue's line and on offer, best first."""
    return WaitingCall.objects.filter(
        queue=queue, state__in=[*IN_LINE_STATES, WaitingCallState.OFFERED]
    ).order_by("rank_at", "pk")


# ------------------------------------------------------------------------- a queue's profile


@dataclass(frozen=True)
class RuleTiming:
    after_seconds: int
    action: str


@dataclass(frozen=True)
class QueueProfile:
    """What joining a queue's line needs to know, read in one query (the arrival path is hot).

    Besides the queue: the customer tier asked for, the skill standing for the caller's language
    and the ids of the skills the call asks for (cc_skills), when any.
    """

    id: int
    slug: str
    priority: int
    strategy: str
    sticky_window_seconds: int
    max_wait_seconds: int
    max_size: int
    business_hours_id: int | None
    closed_action: str
    closed_target: str
    full_action: str
    full_target: str
    requirements: dict[int, int]
    team_ids: list[int]
    rules: list[RuleTiming]
    tier_bonus: int = 0
    tier_skill_id: int | None = None
    tier_level: int = 1
    language_skill_id: int | None = None
    skill_ids: dict[str, int] = field(default_factory=dict)
    waiting_call_id: int | None = None
    node_id: int | None = None


_PROFILE_SQL = """
SELECT q.id, q.slug, q.priority, q.strategy, q.sticky_window_seconds, q.max_wait_seconds,
       q.max_size, q.business_hours_id, q.closed_action, q.closed_target, q.full_action,
       q.full_target,
       COALESCE((SELECT json_object_agg(s.skill_id, s.min_level)
                 FROM routing_queueskill s WHERE s.queue_id = q.id), '{}'::json),
       ARRAY(SELECT t.team_id FROM routing_queue_teams t WHERE t.queue_id = q.id
             ORDER BY t.team_id),
       COALESCE((SELECT json_agg(json_build_array(r.after_seconds, r.action) ORDER BY r.position)
                 FROM routing_overflowrule r WHERE r.queue_id = q.id), '[]'::json),
       COALESCE(tier.priority_bonus, 0), tier.required_skill_id, COALESCE(tier.required_level, 1),
       (SELECT s.id FROM routing_skill s
        WHERE s.language_code <> '' AND lower(s.language_code) IN (%(language)s, %(primary)s)
        ORDER BY lower(s.language_code) = %(language)s DESC LIMIT 1),
       COALESCE((SELECT json_object_agg(s.slug, s.id) FROM routing_skill s
                 WHERE s.slug = ANY(%(skills)s::text[])), '{}'::json),
       (SELECT w.id FROM routing_waitingcall w WHERE w.call_uuid = %(call_uuid)s
        AND w.state IN ('waiting', 'callback', 'offered', 'connected')),
       (SELECT n.id FROM telephony_freeswitchnode n WHERE n.name = %(node)s)
FROM routing_queue q
LEFT JOIN routing_customertier tier ON tier.slug = %(tier)s
WHERE q.is_active AND q.slug IN (%(slug)s, %(fallback)s)
ORDER BY q.slug = %(slug)s DESC
LIMIT 1
"""


def queue_profile(
    *,
    slug: str,
    fallback: str,
    tier: str = "",
    language: str = "",
    skills: Iterable[str] = (),
    call_uuid: str = "",
    node: str = "",
) -> QueueProfile | None:
    """Return the active queue with this slug (else the fallback queue) and its routing setup.

    ``waiting_call_id`` tells whether the caller leg ``call_uuid`` already waits in a line;
    ``node_id`` is the id of the FreeSWITCH node record named ``node`` (None if unknown), read
    here to save the arrival path a query.
    """
    from apps.routing import sql as prepared

    code = language.strip().lower()
    row = prepared.fetch_one(
        _PROFILE_SQL,
        {
            "slug": slug,
            "fallback": fallback,
            "tier": tier,
            "language": code,
            "primary": code.split("-")[0].split("_")[0],
            "skills": list(skills),
            "call_uuid": call_uuid,
            "node": node,
        },
    )
    if row is None:
        return None
    return QueueProfile(
        *row[:12],
        requirements={int(skill): level for skill, level in row[12].items()},
        team_ids=list(row[13]),
        rules=[RuleTiming(after_seconds=after, action=action) for after, action in row[14]],
        tier_bonus=row[15],
        tier_skill_id=row[16],
        tier_level=row[17],
        language_skill_id=row[18] if code else None,
        skill_ids=dict(row[19]),
        waiting_call_id=row[20],
        node_id=row[21],
    )


def queue_music_on_hold(*, slug: str, fallback: str = "default") -> str:
    """Return what a caller waiting in this queue hears (telephony plays it on park)."""
    return (
        Queue.objects.filter(slug__in=[slug, fallback], is_active=True)
        .order_by(Case(When(slug=slug, then=0), default=1))
        .values_list("music_on_hold", flat=True)
        .first()
        or ""
    )


# ------------------------------------------------------------------------------- live figures


def queue_base_tokens(queue: Queue) -> list[int]:
    """Return the tokens an agent needs to serve the queue at all (its own required skills)."""
    return required_tokens(dict(queue.required_skills.values_list("skill_id", "min_level")))


def queue_agent_counts(queue: Queue) -> dict[str, int]:
    """Return how many active agents able to serve the queue are in each state."""
    agents = AgentPresence.objects.filter(
        agent__is_active=True, skill_tokens__contains=queue_base_tokens(queue)
    )
    team_ids = list(queue.teams.values_list("pk", flat=True))
    if team_ids:
        agents = agents.filter(agent__team_id__in=team_ids)
    counts = dict.fromkeys(AgentState.values, 0)
    for row in agents.values("state").annotate(count=Count("pk")):
        counts[row["state"]] = row["count"]
    return counts


def queue_staffed_agents(queue: Queue) -> int:
    """Return how many agents able to serve the queue are working (not offline, not paused)."""
    counts = queue_agent_counts(queue)
    return sum(counts[state] for state in STAFFED_STATES)


def queue_average_handle_seconds(queue: Queue) -> float:
    """Return the queue's average handle time (talk + wrap-up) over its most recent calls.

    Until the queue has handled a call, its configured assumed handle time.
    """
    recent = WaitingCall.objects.filter(
        queue=queue, state=WaitingCallState.COMPLETED, connected_at__isnull=False
    ).order_by("-ended_at")[: conf.aht_sample_size()]
    talk = recent.aggregate(talk=Avg(F("ended_at") - F("connected_at")))["talk"]
    if talk is None:
        return float(queue.default_handle_seconds)
    return talk.total_seconds() + queue.wrap_up_seconds


@dataclass(frozen=True)
class WaitInputs:
    aht_seconds: float
    staffed_agents: int


def queue_wait_inputs(*, now: datetime) -> dict[int, WaitInputs]:
    """Return, per queue with calls in line, what its wait estimates are computed from."""
    queue_ids = set(
        WaitingCall.objects.filter(state__in=IN_LINE_STATES).values_list("queue_id", flat=True)
    )
    inputs: dict[int, WaitInputs] = {}
    for queue in Queue.objects.filter(pk__in=queue_ids):
        counts = queue_agent_counts(queue)
        inputs[queue.pk] = WaitInputs(
            aht_seconds=queue_average_handle_seconds(queue),
            staffed_agents=sum(counts[state] for state in STAFFED_STATES),
        )
    return inputs


def _day_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def queue_stats(*, queue: Queue, now: datetime | None = None) -> dict[str, Any]:
    """Return a queue's live statistics.

    Service level today: calls answered within the target / (answered + abandoned), short
    abandons excluded; None before the first such call.
    """
    now = now or timezone.now()
    line = WaitingCall.objects.filter(
        queue=queue, state__in=[*IN_LINE_STATES, WaitingCallState.OFFERED]
    ).aggregate(
        waiting=Count("pk", filter=Q(state=WaitingCallState.WAITING)),
        callbacks=Count("pk", filter=Q(state=WaitingCallState.CALLBACK)),
        ringing=Count("pk", filter=Q(state=WaitingCallState.OFFERED)),
        oldest=Min("enqueued_at", filter=Q(state__in=IN_LINE_STATES)),
    )
    target = timedelta(seconds=queue.service_level_seconds)
    today = WaitingCall.objects.filter(queue=queue, enqueued_at__gte=_day_start(now)).aggregate(
        entered=Count("pk"),
        answered=Count("pk", filter=Q(connected_at__isnull=False)),
        answered_in_target=Count(
            "pk", filter=Q(connected_at__isnull=False, connected_at__lte=F("enqueued_at") + target)
        ),
        abandoned=Count("pk", filter=Q(state=WaitingCallState.ABANDONED, is_short_abandon=False)),
        short_abandoned=Count(
            "pk", filter=Q(state=WaitingCallState.ABANDONED, is_short_abandon=True)
        ),
        overflowed=Count("pk", filter=Q(state=WaitingCallState.OVERFLOWED)),
    )
    counts = queue_agent_counts(queue)
    staffed = sum(counts[state] for state in STAFFED_STATES)
    aht = queue_average_handle_seconds(queue)
    handled = today["answered"] + today["abandoned"]
    in_line = line["waiting"] + line["callbacks"]
    return {
        "waiting": line["waiting"],
        "callbacks": line["callbacks"],
        "ringing": line["ringing"],
        "longest_wait_seconds": (
            int((now - line["oldest"]).total_seconds()) if line["oldest"] else 0
        ),
        "agents_available": counts[AgentState.AVAILABLE],
        "agents_staffed": staffed,
        "agents_not_ready": counts[AgentState.NOT_READY],
        "entered_today": today["entered"],
        "answered_today": today["answered"],
        "abandoned_today": today["abandoned"],
        "short_abandoned_today": today["short_abandoned"],
        "overflowed_today": today["overflowed"],
        "service_level_today": (
            round(100.0 * today["answered_in_target"] / handled, 1) if handled else None
        ),
        "service_level_target": {
            "percent": queue.service_level_percent,
            "seconds": queue.service_level_seconds,
        },
        "average_handle_seconds": round(aht, 1),
        "estimated_wait_seconds": estimate_wait_seconds(
            position=in_line + 1, aht_seconds=aht, staffed_agents=staffed
        ),
    }


def queue_arrivals_per_hour(*, queue: Queue, now: datetime | None = None) -> float:
    """Return the calls that entered the queue during the last hour."""
    now = now or timezone.now()
    return float(
        WaitingCall.objects.filter(queue=queue, enqueued_at__gte=now - timedelta(hours=1)).count()
    )


def queue_staffing(
    *,
    queue: Queue,
    calls_per_hour: float | None = None,
    aht_seconds: float | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Return the Erlang C staffing for the queue's service-level target.

    Missing inputs come from the queue itself: arrivals of the last hour, its average handle time.
    """
    calls = (
        calls_per_hour
        if calls_per_hour is not None
        else queue_arrivals_per_hour(queue=queue, now=now)
    )
    aht = aht_seconds if aht_seconds is not None else queue_average_handle_seconds(queue)
    staffing = erlang.agents_required(
        calls_per_hour=calls,
        aht_seconds=aht,
        target_percent=queue.service_level_percent,
        target_seconds=queue.service_level_seconds,
    )
    counts = queue_agent_counts(queue)
    return {
        "calls_per_hour": calls,
        "aht_seconds": aht,
        "target_percent": queue.service_level_percent,
        "target_seconds": queue.service_level_seconds,
        "staffing": staffing,
        "agents_staffed_now": sum(counts[state] for state in STAFFED_STATES),
    }
