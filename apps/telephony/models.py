"""FreeSWITCH nodes, calls, their legs and CDRs, recordings, and the call commands sent over ESL.

Idempotency of event handling lives in these rows rather than in a table of processed events:
each leg keeps, per kind of change, the Event-Sequence of the event that last changed it
(``state_sequence``, ``hold_sequence``, ``vars_sequence`` ...). An event changes a value only when
its sequence is newer, and facts that happen once (answered, ended, the CDR) are set once. The same
event twice therefore changes nothing, an older event arriving late cannot undo a newer one, and
the write cost stays one row per leg instead of one insert per event (6,000/s at the target load).
Sequences are comparable within one FreeSWITCH run; a leg never outlives its run.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.crypto import EncryptedTextField
from apps.core.models import TimeStampedModel


class FreeswitchNode(TimeStampedModel):
    """A FreeSWITCH server the suite drives over its event socket."""

    class Role(models.TextChoices):
        INBOUND = "inbound", _("Inbound calls only")
        OUTBOUND = "outbound", _("Outbound calls only")
        BOTH = "both", _("Inbound and outbound calls")

    name = models.SlugField(_("name"), max_length=50, unique=True)
    host = models.CharField(_("ESL host"), max_length=255)
    port = models.PositiveIntegerField(_("ESL port"), default=8021)
    password = EncryptedTextField(_("ESL password"))
    enabled = models.BooleanField(_("enabled"), default=True)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.BOTH)

    class Meta:
        verbose_name = _("FreeSWITCH node")
        verbose_name_plural = _("FreeSWITCH nodes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def places_outbound_calls(self) -> bool:
        """Tell whether call commands may originate calls on this node."""
        return self.role in (self.Role.OUTBOUND, self.Role.BOTH)


class CallState(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    EARLY = "early", _("Early media")
    ANSWERED = "answered", _("Answered")
    PARKED = "parked", _("Parked")
    BRIDGED = "bridged", _("Bridged")
    ENDED = "ended", _("Ended")


class Call(TimeStampedModel):
    """One call: its first leg (the A-leg) gives its uuid; other legs join it."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    # No index of its own: the (node, uuid) unique constraint leads with node.
    node = models.ForeignKey(
        FreeswitchNode,
        verbose_name=_("node"),
        on_delete=models.PROTECT,
        related_name="calls",
        db_index=False,
    )
    uuid = models.CharField(_("A-leg uuid"), max_length=64)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    caller_number = models.CharField(_("caller number"), max_length=64, blank=True)
    caller_name = models.CharField(_("caller name"), max_length=128, blank=True)
    callee_number = models.CharField(_("callee number"), max_length=64, blank=True)
    did = models.CharField(_("DID"), max_length=64, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=CallState.choices, default=CallState.RINGING
    )
    cc_variables = models.JSONField(_("cc_* channel variables"), default=dict, blank=True)
    queue_slug = models.SlugField(_("queue"), max_length=100, blank=True, db_index=False)
    ivr_path_ref = models.CharField(_("IVR path reference"), max_length=64, blank=True)
    customer_id = models.BigIntegerField(_("customer id"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), db_index=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    bridged_at = models.DateTimeField(_("bridged at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    hangup_cause = models.CharField(_("hangup cause"), max_length=64, blank=True)
    vars_sequence = models.BigIntegerField(default=0)
    last_event_sequence = models.BigIntegerField(_("last event sequence"), default=0)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["node", "uuid"], name="telephony_call_node_uuid"),
        ]
        # Plain b-tree indexes for exact matches (db_index on a CharField would add a second,
        # LIKE-only index that every insert and update of the event process pays for).
        indexes = [
            models.Index(
                fields=["node"], condition=Q(ended_at__isnull=True), name="telephony_call_open"
            ),
            models.Index(fields=["did"], name="telephony_call_did"),
            models.Index(fields=["queue_slug"], name="telephony_call_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.uuid} {self.caller_number} -> {self.callee_number}"


class CallLeg(models.Model):
    """One FreeSWITCH channel of a call."""

    class Role(models.TextChoices):
        CALLER = "caller", _("Caller")
        CALLEE = "callee", _("Called party")
        AGENT = "agent", _("Agent")
        CONSULT = "consult", _("Consultation")
        SUPERVISOR = "supervisor", _("Supervisor")

    # No index of its own: the (node, uuid) unique constraint leads with node.
    node = models.ForeignKey(
        FreeswitchNode,
        verbose_name=_("node"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    call = models.ForeignKey(
        Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="legs"
    )
    uuid = models.CharField(_("uuid"), max_length=64)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Call.Direction.choices)
    channel_name = models.CharField(_("channel name"), max_length=255, blank=True)
    endpoint = models.CharField(_("endpoint"), max_length=255, blank=True)
    agent = models.ForeignKey(
        "accounts.Agent",
        verbose_name=_("agent"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="call_legs",
    )
    caller_number = models.CharField(_("caller number"), max_length=64, blank=True)
    callee_number = models.CharField(_("callee number"), max_length=64, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=CallState.choices, default=CallState.RINGING
    )
    is_held = models.BooleanField(_("on hold"), default=False)
    bridged_to = models.CharField(_("bridged to"), max_length=64, blank=True)
    dtmf = models.JSONField(_("DTMF digits"), default=list, blank=True)
    started_at = models.DateTimeField(_("started at"))
    ringing_at = models.DateTimeField(_("ringing at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    bridged_at = models.DateTimeField(_("bridged at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    hangup_cause = models.CharField(_("hangup cause"), max_length=64, blank=True)
    state_sequence = models.BigIntegerField(default=0)
    hold_sequence = models.BigIntegerField(default=0)
    bridge_sequence = models.BigIntegerField(default=0)
    last_event_sequence = models.BigIntegerField(_("last event sequence"), default=0)

    class Meta:
        verbose_name = _("call leg")
        verbose_name_plural = _("call legs")
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["node", "uuid"], name="telephony_leg_node_uuid"),
        ]
        indexes = [
            models.Index(
                fields=["node"], condition=Q(ended_at__isnull=True), name="telephony_leg_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.uuid} ({self.role})"


class Cdr(models.Model):
    """The billing record of one leg, from its CHANNEL_HANGUP_COMPLETE.

    The call's own CDR is its A-leg's (``Call.uuid == Cdr.uuid``). Records of legs that ended
    while the event process was away are written by the resync with ``source=resync``.
    """

    class Source(models.TextChoices):
        EVENT = "event", _("CHANNEL_HANGUP_COMPLETE")
        RESYNC = "resync", _("Closed by a resync")

    node = models.ForeignKey(
        FreeswitchNode, verbose_name=_("node"), on_delete=models.PROTECT, related_name="+"
    )
    call = models.ForeignKey(
        Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="cdrs"
    )
    leg = models.OneToOneField(
        CallLeg, verbose_name=_("leg"), on_delete=models.CASCADE, related_name="cdr"
    )
    uuid = models.CharField(_("uuid"), max_length=64)
    direction = models.CharField(_("direction"), max_length=10, choices=Call.Direction.choices)
    caller = models.CharField(_("caller"), max_length=64, blank=True)
    callee = models.CharField(_("callee"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("started at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"))
    duration = models.PositiveIntegerField(_("duration (s)"), default=0)
    billsec = models.PositiveIntegerField(_("billed seconds"), default=0)
    hangup_cause = models.CharField(_("hangup cause"), max_length=64, blank=True)
    hangup_cause_q850 = models.PositiveSmallIntegerField(null=True, blank=True)
    sip_hangup_disposition = models.CharField(
        _("SIP hangup disposition"), max_length=32, blank=True
    )
    recording_path = models.CharField(_("recording path"), max_length=500, blank=True)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.EVENT
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("CDR")
        verbose_name_plural = _("CDRs")
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"CDR {self.uuid} {self.billsec}s {self.hangup_cause}"


class CallRecording(models.Model):
    """One recording of a leg (``uuid_record``), with the spans masked for PCI.

    FreeSWITCH sends no event for mask/unmask, so ``masked_spans`` is written from our own
    successful commands: ``[{"start": iso, "end": iso | null}, ...]``.
    """

    node = models.ForeignKey(
        FreeswitchNode, verbose_name=_("node"), on_delete=models.PROTECT, related_name="+"
    )
    call = models.ForeignKey(
        Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="recordings"
    )
    leg = models.ForeignKey(
        CallLeg, verbose_name=_("leg"), on_delete=models.CASCADE, related_name="recordings"
    )
    path = models.CharField(_("path"), max_length=500)
    started_at = models.DateTimeField(_("started at"))
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    masked_spans = models.JSONField(_("masked spans"), default=list, blank=True)
    start_sequence = models.BigIntegerField()
    stop_sequence = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("call recording")
        verbose_name_plural = _("call recordings")
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["leg", "start_sequence"], name="telephony_recording_leg_start"
            ),
        ]

    def __str__(self) -> str:
        return self.path


class EndpointRegistration(models.Model):
    """The last SIP registration seen for a directory user (an agent's phone or softphone)."""

    node = models.ForeignKey(
        FreeswitchNode, verbose_name=_("node"), on_delete=models.CASCADE, related_name="+"
    )
    username = models.CharField(_("user"), max_length=64)
    realm = models.CharField(_("realm"), max_length=255)
    agent = models.ForeignKey(
        "accounts.Agent",
        verbose_name=_("agent"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="registrations",
    )
    is_registered = models.BooleanField(_("registered"), default=False)
    contact = models.CharField(_("contact"), max_length=500, blank=True)
    network_ip = models.CharField(_("network address"), max_length=64, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=255, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    changed_at = models.DateTimeField(_("changed at"))
    # Registrations outlive a FreeSWITCH run and sequences restart with each run (Core-UUID).
    core_uuid = models.CharField(max_length=64, blank=True)
    last_event_sequence = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("endpoint registration")
        verbose_name_plural = _("endpoint registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["node", "username", "realm"], name="telephony_registration_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username}@{self.realm}"


class CallCommand(TimeStampedModel):
    """A request to act on a call over ESL, executed once by the telephony worker."""

    class Kind(models.TextChoices):
        ORIGINATE = "originate", _("Originate")
        BRIDGE = "bridge", _("Bridge")
        TRANSFER = "transfer", _("Blind transfer")
        ATTENDED_TRANSFER = "attended_transfer", _("Attended transfer")
        HANGUP = "hangup", _("Hang up")
        HOLD = "hold", _("Hold")
        UNHOLD = "unhold", _("Unhold")
        RECORD_START = "record_start", _("Start recording")
        RECORD_STOP = "record_stop", _("Stop recording")
        RECORD_MASK = "record_mask", _("Mask recording")
        RECORD_UNMASK = "record_unmask", _("Unmask recording")
        BROADCAST = "broadcast", _("Broadcast a prompt")
        SEND_DTMF = "send_dtmf", _("Send DTMF")
        EAVESDROP = "eavesdrop", _("Listen in")
        WHISPER = "whisper", _("Whisper to the agent")
        BARGE = "barge", _("Barge in")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    result = models.JSONField(_("result"), default=dict, blank=True)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    requester = models.CharField(
        _("requester"),
        max_length=100,
        blank=True,
        help_text=_("The component that asked when no user did (e.g. routing)."),
    )
    call = models.ForeignKey(
        Call,
        verbose_name=_("call"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="commands",
    )
    node = models.ForeignKey(
        FreeswitchNode, verbose_name=_("node"), on_delete=models.PROTECT, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("call command")
        verbose_name_plural = _("call commands")
        ordering = ["-created_at"]
        # The command sweep's scan (oldest unfinished first): only pending and sent rows, a
        # handful at any time, are in it, whatever the size of the history.
        indexes = [
            models.Index(
                fields=["updated_at"],
                condition=Q(status__in=["pending", "sent"]),
                name="telephony_command_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.idempotency_key} ({self.status})"

    @property
    def is_final(self) -> bool:
        """Tell whether the command has reached a final status."""
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
