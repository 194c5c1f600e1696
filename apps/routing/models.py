"""Routing (ACD): skills, queues, business hours, agent presence and the waiting line.

Invariants the database enforces, whatever number of routers run at once:
- an agent has at most one offered or connected waiting call (partial unique index);
- a waiting call and an agent each have at most one ringing offer (partial unique indexes);
- a caller leg waits in at most one line at a time (partial unique index on its uuid).
The router takes rows with SELECT ... FOR UPDATE SKIP LOCKED (see router.py); the indexes make a
bug there fail loudly instead of ringing one agent twice.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Agent
from apps.core.business_hours import Schedule, validate_timezone
from apps.core.models import TimeStampedModel
from apps.routing.matching import MAX_LEVEL, MIN_LEVEL
from apps.routing.priority import MAX_CALL_PRIORITY, MAX_QUEUE_PRIORITY, MAX_TIER_BONUS

level_validators = [MinValueValidator(MIN_LEVEL), MaxValueValidator(MAX_LEVEL)]


class Skill(TimeStampedModel):
    """Something an agent can do (a product, a language, VIP handling), held at a level 1-10."""

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    language_code = models.CharField(
        _("language code"),
        max_length=15,
        blank=True,
        help_text=_(
            "Set when the skill is speaking a language (e.g. 'en', 'zh'): a call in that language "
            "(cc_language) then needs the skill."
        ),
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["language_code"],
                condition=~Q(language_code=""),
                name="routing_skill_language_unique",
                violation_error_message=_("Another skill already stands for this language."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AgentSkill(models.Model):
    """An agent's proficiency in one skill."""

    agent = models.ForeignKey(
        "accounts.Agent",
        verbose_name=_("agent"),
        on_delete=models.CASCADE,
        related_name="routing_skills",
    )
    skill = models.ForeignKey(
        Skill, verbose_name=_("skill"), on_delete=models.PROTECT, related_name="agent_skills"
    )
    level = models.PositiveSmallIntegerField(_("level"), validators=level_validators)

    class Meta:
        verbose_name = _("agent skill")
        verbose_name_plural = _("agent skills")
        ordering = ["agent", "skill__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "skill"],
                name="routing_agentskill_unique",
                violation_error_message=_("The agent already has this skill."),
            ),
            models.CheckConstraint(
                condition=Q(level__gte=MIN_LEVEL, level__lte=MAX_LEVEL),
                name="routing_agentskill_level_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} {self.skill} {self.level}"


class CustomerTier(models.Model):
    """A customer tier (cc_tier): a priority bonus and, optionally, a skill its calls need."""

    slug = models.SlugField(_("slug"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    priority_bonus = models.PositiveSmallIntegerField(
        _("priority bonus"),
        default=0,
        validators=[MaxValueValidator(MAX_TIER_BONUS)],
        help_text=_("Added to the call's priority."),
    )
    required_skill = models.ForeignKey(
        Skill,
        verbose_name=_("required skill"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    required_level = models.PositiveSmallIntegerField(
        _("required level"), default=1, validators=level_validators
    )

    class Meta:
        verbose_name = _("customer tier")
        verbose_name_plural = _("customer tiers")
        ordering = ["-priority_bonus", "slug"]

    def __str__(self) -> str:
        return self.name


class BusinessHours(TimeStampedModel):
    """The opening calendar: weekly intervals and holidays or special days, in one time zone.

    The one calendar of the suite: queues open and close by it, tickets' SLA policies count
    business time on it. The arithmetic is apps.core.business_hours.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_timezone]
    )

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def schedule(self) -> Schedule:
        """Return the calendar as a Schedule (uses prefetched intervals and holidays)."""
        cached = getattr(self, "_schedule", None)
        if cached is None:
            cached = self._schedule = Schedule.build(
                timezone=self.timezone,
                weekly=[(row.weekday, row.opens, row.closes) for row in self.intervals.all()],
                special=[(row.date, row.opens, row.closes) for row in self.holidays.all()],
            )
        return cached


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


CLOSES_HELP = _("At or before the opening time: closes the next day (00:00 is midnight).")


class BusinessHoursInterval(models.Model):
    """One opening interval on a weekday (several per day allowed, e.g. around lunch)."""

    calendar = models.ForeignKey(
        BusinessHours,
        verbose_name=_("calendar"),
        on_delete=models.CASCADE,
        related_name="intervals",
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"), help_text=CLOSES_HELP)

    class Meta:
        verbose_name = _("opening interval")
        verbose_name_plural = _("opening intervals")
        ordering = ["weekday", "opens"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Holiday(models.Model):
    """A day the calendar is closed (no times), or open only between the given times (a reduced
    day, or a special working day such as a weekend make-up day)."""

    calendar = models.ForeignKey(
        BusinessHours,
        verbose_name=_("calendar"),
        on_delete=models.CASCADE,
        related_name="holidays",
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    opens = models.TimeField(_("opens"), null=True, blank=True, help_text=_("Empty for a holiday."))
    closes = models.TimeField(_("closes"), null=True, blank=True, help_text=CLOSES_HELP)

    class Meta:
        verbose_name = _("holiday or special day")
        verbose_name_plural = _("holidays and special days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"],
                name="routing_holiday_unique",
                violation_error_message=_("This calendar already has a holiday on that date."),
            ),
            models.CheckConstraint(
                condition=Q(opens__isnull=True, closes__isnull=True)
                | Q(opens__isnull=False, closes__isnull=False),
                name="routing_holiday_both_times_or_none",
                violation_error_message=_("Leave both times empty (closed all day) or give both."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class Strategy(models.TextChoices):
    LONGEST_IDLE = "longest_idle", _("Longest idle agent")
    BEST_SKILL = "best_skill", _("Best skill level, then longest idle")
    LEAST_OCCUPIED = "least_occupied", _("Least occupied agent")
    ROUND_ROBIN = "round_robin", _("Round robin")
    STICKY = "sticky", _("The customer's last agent, then longest idle")


class ExitAction(models.TextChoices):
    """Where a call goes when it leaves the line without an agent."""

    MESSAGE_AND_END = "message", _("Play a message and end the call")
    VOICEMAIL = "voicemail", _("Voicemail")
    TRANSFER = "transfer", _("Transfer to an extension")


class Queue(TimeStampedModel):
    """A line of waiting calls, the teams and skills that serve it, and how it decides."""

    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    teams = models.ManyToManyField(
        "accounts.Team",
        verbose_name=_("teams"),
        related_name="routing_queues",
        blank=True,
        help_text=_("The teams whose agents serve the queue (none: any agent with the skills)."),
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        default=0,
        validators=[MaxValueValidator(MAX_QUEUE_PRIORITY)],
        help_text=_("Calls of higher-priority queues are served first by agents serving several."),
    )
    strategy = models.CharField(
        _("strategy"), max_length=20, choices=Strategy.choices, default=Strategy.LONGEST_IDLE
    )
    sticky_window_seconds = models.PositiveIntegerField(
        _("sticky window (s)"),
        default=0,
        help_text=_("Sticky strategy: how long a call waits for the customer's last agent."),
    )
    service_level_percent = models.PositiveSmallIntegerField(
        _("service level target (%)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    service_level_seconds = models.PositiveIntegerField(
        _("service level answer time (s)"), default=20, validators=[MinValueValidator(1)]
    )
    max_wait_seconds = models.PositiveIntegerField(
        _("maximum wait (s)"), default=0, help_text=_("0: no limit.")
    )
    max_size = models.PositiveIntegerField(
        _("maximum waiting calls"), default=0, help_text=_("0: no limit.")
    )
    business_hours = models.ForeignKey(
        BusinessHours,
        verbose_name=_("business hours"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="queues",
        help_text=_("Empty: always open."),
    )
    music_on_hold = models.CharField(
        _("music on hold"), max_length=255, default="local_stream://moh", blank=True
    )
    announce_interval_seconds = models.PositiveIntegerField(
        _("announcement interval (s)"),
        default=0,
        help_text=_("Tell waiting callers their position and wait this often (0: never)."),
    )
    announcement = models.CharField(
        _("announcement"),
        max_length=255,
        default="file_string://ivr/ivr-you_are_number.wav!digits/{position}.wav",
        blank=True,
        help_text=_(
            "Media played to a waiting caller, one word (e.g. file_string://a.wav!b.wav); "
            "{position} and {minutes} are replaced."
        ),
    )
    wrap_up_seconds = models.PositiveIntegerField(_("wrap-up (s)"), default=10)
    ring_timeout_seconds = models.PositiveIntegerField(
        _("ring timeout (s)"), default=20, validators=[MinValueValidator(1)]
    )
    short_abandon_seconds = models.PositiveIntegerField(
        _("short abandon threshold (s)"),
        default=5,
        help_text=_("Callers hanging up sooner are counted as short abandons, not as lost calls."),
    )
    default_handle_seconds = models.PositiveIntegerField(
        _("assumed handle time (s)"),
        default=180,
        validators=[MinValueValidator(1)],
        help_text=_("Used for wait estimates until the queue has handled calls."),
    )
    callback_max_attempts = models.PositiveSmallIntegerField(
        _("callback attempts"), default=3, validators=[MinValueValidator(1)]
    )
    closed_action = models.CharField(
        _("when closed"),
        max_length=20,
        choices=ExitAction.choices,
        default=ExitAction.MESSAGE_AND_END,
    )
    closed_target = models.CharField(
        _("closed target"),
        max_length=255,
        blank=True,
        help_text=_("Media, mailbox or extension, depending on the action."),
    )
    full_action = models.CharField(
        _("when full or waited too long"),
        max_length=20,
        choices=ExitAction.choices,
        default=ExitAction.MESSAGE_AND_END,
    )
    full_target = models.CharField(_("full target"), max_length=255, blank=True)
    round_robin_cursor = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["name"]
        permissions = [
            ("review_queue", _("Review the queue's calls (quality assurance)")),
            ("view_queue_stats", _("See live queue statistics")),
            ("plan_staffing", _("Use the staffing (Erlang C) calculator")),
        ]

    def __str__(self) -> str:
        return self.name


class QueueSkill(models.Model):
    """A skill every agent serving the queue needs, at a minimum level."""

    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), on_delete=models.CASCADE, related_name="required_skills"
    )
    skill = models.ForeignKey(
        Skill, verbose_name=_("skill"), on_delete=models.PROTECT, related_name="queue_skills"
    )
    min_level = models.PositiveSmallIntegerField(
        _("minimum level"), default=1, validators=level_validators
    )

    class Meta:
        verbose_name = _("required skill")
        verbose_name_plural = _("required skills")
        ordering = ["queue", "skill__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["queue", "skill"],
                name="routing_queueskill_unique",
                violation_error_message=_("The queue already requires this skill."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.skill} >= {self.min_level}"


class OverflowAction(models.TextChoices):
    RELAX_LEVELS = "relax", _("Relax minimum skill levels")
    ADD_POOL = "add_pool", _("Add backup agents (teams or another queue's teams)")
    OFFER_CALLBACK = "callback", _("Offer a callback (press 1)")
    VOICEMAIL = "voicemail", _("Send to voicemail")
    MESSAGE_AND_END = "message", _("Play a message and end the call")


TERMINAL_OVERFLOW_ACTIONS = frozenset({OverflowAction.VOICEMAIL, OverflowAction.MESSAGE_AND_END})


class OverflowRule(models.Model):
    """What happens to a call still waiting ``after_seconds`` after it entered the queue."""

    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), on_delete=models.CASCADE, related_name="overflow_rules"
    )
    position = models.PositiveSmallIntegerField(_("order"))
    after_seconds = models.PositiveIntegerField(_("after (s)"))
    action = models.CharField(_("action"), max_length=20, choices=OverflowAction.choices)
    relax_by = models.PositiveSmallIntegerField(
        _("relax by (levels)"),
        default=0,
        help_text=_("Relax: lower each minimum level by this much (to 0 drops the skill)."),
    )
    backup_teams = models.ManyToManyField(
        "accounts.Team", verbose_name=_("backup teams"), blank=True, related_name="+"
    )
    backup_queue = models.ForeignKey(
        Queue,
        verbose_name=_("backup queue"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Add pool: the agents of this queue's teams also qualify."),
    )
    target = models.CharField(
        _("target"),
        max_length=255,
        blank=True,
        help_text=_("Message or callback prompt media, or the voicemail box."),
    )

    class Meta:
        verbose_name = _("overflow rule")
        verbose_name_plural = _("overflow rules")
        ordering = ["queue", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["queue", "position"],
                name="routing_overflow_order",
                violation_error_message=_("Two overflow rules of a queue cannot share an order."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.queue} #{self.position}: {self.get_action_display()} @ {self.after_seconds}s"


class AgentState(models.TextChoices):
    OFFLINE = "offline", _("Offline")
    AVAILABLE = "available", _("Available")
    RESERVED = "reserved", _("Reserved (ringing)")
    ON_CALL = "on_call", _("On call")
    WRAP_UP = "wrap_up", _("Wrap-up")
    NOT_READY = "not_ready", _("Not ready")


class NotReadyReason(models.TextChoices):
    BREAK = "break", _("Break")
    LUNCH = "lunch", _("Lunch")
    TRAINING = "training", _("Training")
    MISSED_CALL = "missed_call", _("Missed call")


class AgentPresence(models.Model):
    """An agent's routing state now, and what the router needs to pick them quickly.

    ``skill_tokens`` mirrors the agent's skills (see matching.py); services that change skills
    refresh it in the same transaction.
    """

    agent = models.OneToOneField(
        "accounts.Agent",
        verbose_name=_("agent"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="presence",
    )
    state = models.CharField(
        _("state"), max_length=12, choices=AgentState.choices, default=AgentState.OFFLINE
    )
    reason = models.CharField(
        _("not ready reason"), max_length=20, choices=NotReadyReason.choices, blank=True
    )
    state_since = models.DateTimeField(_("in this state since"))
    idle_since = models.DateTimeField(_("available since"), null=True, blank=True)
    wrap_up_until = models.DateTimeField(_("wrap-up until"), null=True, blank=True)
    session_started_at = models.DateTimeField(_("logged in at"), null=True, blank=True)
    occupied_seconds = models.FloatField(_("occupied this session (s)"), default=0.0)
    calls_handled = models.PositiveIntegerField(_("calls this session"), default=0)
    missed_calls = models.PositiveIntegerField(_("missed calls this session"), default=0)
    skill_tokens = ArrayField(models.BigIntegerField(), default=list, blank=True)

    class Meta:
        verbose_name = _("agent presence")
        verbose_name_plural = _("agent presences")
        indexes = [
            models.Index(
                fields=["idle_since"],
                condition=Q(state="available"),
                name="routing_presence_available",
            ),
            models.Index(
                fields=["wrap_up_until"],
                condition=Q(state="wrap_up"),
                name="routing_presence_wrapup",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="not_ready") | Q(reason=""),
                name="routing_presence_reason_only_when_not_ready",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} {self.get_state_display()}"


class AgentStateChange(models.Model):
    """One transition of an agent's state, for reporting (append-only)."""

    # Foreign keys without their own index: (agent, at) serves the reports and an append-only
    # log written on every transition should carry few indexes.
    agent = models.ForeignKey(
        "accounts.Agent",
        verbose_name=_("agent"),
        on_delete=models.CASCADE,
        related_name="state_changes",
        db_index=False,
    )
    from_state = models.CharField(_("from"), max_length=12, choices=AgentState.choices)
    to_state = models.CharField(_("to"), max_length=12, choices=AgentState.choices)
    reason = models.CharField(_("reason"), max_length=20, blank=True)
    at = models.DateTimeField(_("at"))
    previous_state_seconds = models.FloatField(_("time in previous state (s)"), default=0.0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    waiting_call = models.ForeignKey(
        "WaitingCall",
        verbose_name=_("call"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("agent state change")
        verbose_name_plural = _("agent state changes")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["agent", "at"], name="routing_statechange_agent_at")]

    def __str__(self) -> str:
        return f"{self.agent} {self.from_state} -> {self.to_state} at {self.at:%Y-%m-%d %H:%M:%S}"


class WaitingCallState(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    CALLBACK = "callback", _("Waiting for a callback")
    OFFERED = "offered", _("Offered to an agent")
    CONNECTED = "connected", _("Connected")
    COMPLETED = "completed", _("Completed")
    ABANDONED = "abandoned", _("Abandoned")
    OVERFLOWED = "overflowed", _("Left the queue")
    FAILED = "failed", _("Callback failed")


IN_LINE_STATES = (WaitingCallState.WAITING, WaitingCallState.CALLBACK)
ACTIVE_STATES = (*IN_LINE_STATES, WaitingCallState.OFFERED, WaitingCallState.CONNECTED)


class WaitingCall(models.Model):
    """A call in a queue's line, from the moment it is parked until it is answered or leaves.

    The router orders the line by ``rank_at`` (see priority.py). ``required_tokens`` and
    ``eligible_team_ids`` are what an agent needs to take the call now; overflow rules widen them.
    """

    # Indexes are kept few on purpose: every routing decision rewrites this row. Lookups by queue
    # use (queue, enqueued_at); by agent and by caller leg the partial unique indexes below.
    queue = models.ForeignKey(
        Queue,
        verbose_name=_("queue"),
        on_delete=models.PROTECT,
        related_name="waiting_calls",
        db_index=False,
    )
    call_uuid = models.CharField(_("caller leg uuid"), max_length=64)
    telephony_call_id = models.BigIntegerField(_("telephony call id"), null=True, blank=True)
    node = models.CharField(_("FreeSWITCH node"), max_length=50, blank=True)
    telephony_node_id = models.BigIntegerField(_("telephony node id"), null=True, blank=True)
    caller_number = models.CharField(_("caller number"), max_length=64, blank=True)
    customer_ref = models.CharField(_("customer"), max_length=64, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("call priority"), default=0, validators=[MaxValueValidator(MAX_CALL_PRIORITY)]
    )
    tier = models.CharField(_("customer tier"), max_length=30, blank=True)
    language = models.CharField(_("language"), max_length=15, blank=True)
    requirements = models.JSONField(
        _("required skills"),
        default=dict,
        blank=True,
        help_text=_("{skill id: minimum level} before any relaxation."),
    )
    relax_by = models.PositiveSmallIntegerField(_("levels relaxed"), default=0)
    required_tokens = ArrayField(models.BigIntegerField(), default=list, blank=True)
    eligible_team_ids = ArrayField(models.BigIntegerField(), null=True, blank=True)
    base_priority = models.PositiveSmallIntegerField(_("base priority"), default=0)
    enqueued_at = models.DateTimeField(_("entered the queue at"))
    rank_at = models.DateTimeField(_("rank time"))
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=WaitingCallState.choices,
        default=WaitingCallState.WAITING,
    )
    state_changed_at = models.DateTimeField(_("state changed at"))
    route_after = models.DateTimeField(_("not routed before"), null=True, blank=True)
    offered_agent = models.ForeignKey(
        "accounts.Agent",
        verbose_name=_("offered to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    offered_at = models.DateTimeField(_("offered at"), null=True, blank=True)
    offer_count = models.PositiveIntegerField(_("offers"), default=0)
    connected_at = models.DateTimeField(_("connected at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=30, blank=True)
    is_short_abandon = models.BooleanField(_("short abandon"), default=False)
    last_agent = models.ForeignKey(
        "accounts.Agent",
        verbose_name=_("customer's last agent"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    sticky_until = models.DateTimeField(
        _("reserved for the last agent until"), null=True, blank=True
    )
    overflow_step = models.PositiveSmallIntegerField(_("overflow rules applied"), default=0)
    next_overflow_at = models.DateTimeField(_("next overflow at"), null=True, blank=True)
    is_callback = models.BooleanField(_("callback (virtual hold)"), default=False)
    callback_offered_at = models.DateTimeField(_("callback offered at"), null=True, blank=True)
    callback_number = models.CharField(_("callback number"), max_length=64, blank=True)
    callback_attempts = models.PositiveSmallIntegerField(_("callback attempts"), default=0)
    position = models.PositiveIntegerField(_("position"), null=True, blank=True)
    ewt_seconds = models.PositiveIntegerField(_("estimated wait (s)"), null=True, blank=True)
    ewt_updated_at = models.DateTimeField(null=True, blank=True)
    last_announced_at = models.DateTimeField(null=True, blank=True)

    # Not stored: set by services.waiting_call_enqueue when it queued a router event.
    routing_requested = False

    class Meta:
        verbose_name = _("waiting call")
        verbose_name_plural = _("waiting calls")
        ordering = ["rank_at", "id"]
        indexes = [
            models.Index(
                fields=["rank_at", "id"],
                condition=Q(state__in=IN_LINE_STATES),
                name="routing_waiting_line",
            ),
            models.Index(
                fields=["queue", "rank_at"],
                condition=Q(state__in=IN_LINE_STATES),
                name="routing_waiting_queue_line",
            ),
            models.Index(
                fields=["next_overflow_at"],
                condition=Q(state__in=IN_LINE_STATES),
                name="routing_waiting_overflow_due",
            ),
            models.Index(fields=["queue", "enqueued_at"], name="routing_waiting_queue_day"),
            models.Index(
                fields=["queue", "ended_at"],
                condition=Q(state="completed"),
                name="routing_waiting_handled",
            ),
            models.Index(
                fields=["customer_ref", "connected_at"],
                condition=~Q(customer_ref=""),
                name="routing_waiting_customer",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["offered_agent"],
                condition=Q(state__in=[WaitingCallState.OFFERED, WaitingCallState.CONNECTED]),
                name="routing_one_call_per_agent",
            ),
            models.UniqueConstraint(
                fields=["call_uuid"],
                condition=Q(state__in=ACTIVE_STATES),
                name="routing_one_line_per_caller",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=[WaitingCallState.OFFERED, WaitingCallState.CONNECTED])
                | Q(offered_agent__isnull=False),
                name="routing_offered_has_agent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.queue.slug} {self.call_uuid} ({self.state})"


class OfferStatus(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    MISSED = "missed", _("Not answered (RONA)")
    DECLINED = "declined", _("Declined by the agent")
    CANCELLED = "cancelled", _("Cancelled (caller left)")


class Offer(models.Model):
    """One attempt to give a waiting call to an agent: ringing their endpoint."""

    waiting_call = models.ForeignKey(
        WaitingCall, verbose_name=_("call"), on_delete=models.CASCADE, related_name="offers"
    )
    agent = models.ForeignKey(
        "accounts.Agent",
        verbose_name=_("agent"),
        on_delete=models.CASCADE,
        related_name="routing_offers",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OfferStatus.choices, default=OfferStatus.RINGING
    )
    created_at = models.DateTimeField(_("offered at"))
    ring_deadline = models.DateTimeField(_("ring deadline"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    token = models.UUIDField(
        _("token"),
        default=uuid.uuid4,
        unique=True,
        help_text=_("Names the offer's call commands (idempotency keys) and so its legs."),
    )
    agent_leg_uuid = models.UUIDField(_("agent leg uuid"), unique=True)
    customer_leg_uuid = models.UUIDField(_("customer leg uuid"), null=True, blank=True)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["ring_deadline"],
                condition=Q(status="ringing"),
                name="routing_offer_ringing",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["waiting_call"],
                condition=Q(status="ringing"),
                name="routing_one_ringing_offer_per_call",
            ),
            models.UniqueConstraint(
                fields=["agent"],
                condition=Q(status="ringing"),
                name="routing_one_ringing_offer_per_agent",
            ),
            models.UniqueConstraint(
                fields=["customer_leg_uuid"],
                condition=Q(customer_leg_uuid__isnull=False),
                name="routing_offer_customer_leg",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.waiting_call_id} -> {self.agent_id} ({self.status})"


class AgentRoutingProfile(Agent):
    """An agent seen from routing: the admin edits their skills here (proxy, no table)."""

    class Meta:
        proxy = True
        verbose_name = _("agent routing profile")
        verbose_name_plural = _("agent routing profiles")
