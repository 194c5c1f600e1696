"""IVR flows, versions and nodes, prompts, inbound numbers, and the paths callers took.

Business-hours nodes name a routing.BusinessHours calendar (the suite's one calendar).

A flow's graph lives in FlowNode rows of one FlowVersion. A version is a draft until published;
published versions never change again, so a call in progress keeps running the version its signed
state names even after a newer one goes live.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel
from apps.ivr.conf import ivr_language_choices

node_key_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]{0,39}$",
    _("Use 1 to 40 lower-case letters, digits, '-' or '_' (starting with a letter or digit)."),
)
did_validator = RegexValidator(r"^\+?[0-9]{3,20}$", _("A number is 3 to 20 digits, '+' allowed."))


class Flow(TimeStampedModel):
    """A named IVR flow; its live version answers new calls."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    default_language = models.CharField(
        _("default language"), max_length=10, choices=ivr_language_choices, default="en"
    )
    languages = models.JSONField(
        _("languages"),
        default=list,
        blank=True,
        help_text=_(
            "Language codes callers may use in this flow; every prompt needs each of them. "
            "Empty means only the default language."
        ),
    )
    fallback_queue = models.CharField(
        _("fallback queue"),
        max_length=64,
        blank=True,
        help_text=_(
            "Queue slug callers are parked in when the IVR cannot go on (budget spent, "
            "broken state). Empty: the dialplan's default queue."
        ),
    )
    live_version = models.OneToOneField(
        "FlowVersion",
        verbose_name=_("live version"),
        on_delete=models.PROTECT,
        related_name="live_for",
        null=True,
        blank=True,
        editable=False,
    )

    class Meta:
        verbose_name = _("IVR flow")
        verbose_name_plural = _("IVR flows")
        ordering = ["name"]
        permissions = [
            ("test_flow", _("Run the IVR flow tester")),
            ("publish_flow", _("Publish and restore IVR flow versions")),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def all_languages(self) -> list[str]:
        """Return the default language followed by the other configured ones."""
        others = [code for code in self.languages if code != self.default_language]
        return [self.default_language, *others]


class FlowVersion(models.Model):
    """One numbered version of a flow's graph: a draft, the published one, or a retired one."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        RETIRED = "retired", _("Retired")

    flow = models.ForeignKey(
        Flow, verbose_name=_("flow"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("number"), editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    entry_node = models.CharField(
        _("entry node"), max_length=40, validators=[node_key_validator], default="start"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    # The flow's languages and fallback queue as they were when this version was published, so
    # a running version never changes under a call (drafts read the flow's current values).
    flow_settings = models.JSONField(_("flow settings"), default=dict, blank=True, editable=False)
    restored_from = models.ForeignKey(
        "self",
        verbose_name=_("restored from"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("flow version")
        verbose_name_plural = _("flow versions")
        ordering = ["flow__name", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "number"], name="ivr_version_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.flow.name} v{self.number} ({self.get_status_display()})"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class NodeKind(models.TextChoices):
    MENU = "menu", _("Menu (DTMF options)")
    PLAY = "play", _("Play a prompt")
    COLLECT = "collect", _("Collect digits")
    LOOKUP_CUSTOMER = "lookup_customer", _("Look up the caller as a customer")
    LOOKUP_HTTP = "lookup_http", _("External lookup over HTTP")
    HOURS = "hours", _("Business hours and holidays")
    LANGUAGE = "language", _("Language choice")
    SET = "set", _("Set priority, skills or tier")
    QUEUE = "queue", _("Enter a queue")
    CALLBACK = "callback", _("Request a callback")
    VOICEMAIL = "voicemail", _("Leave a voicemail")
    TRANSFER = "transfer", _("Transfer to a number")
    HANGUP = "hangup", _("Hang up")
    SPEECH = "speech", _("Spoken answer (DTMF fallback)")


class FlowNode(models.Model):
    """One step of a flow version; `config` holds the kind's settings and the keys of next nodes."""

    version = models.ForeignKey(
        FlowVersion, verbose_name=_("version"), on_delete=models.CASCADE, related_name="nodes"
    )
    key = models.CharField(_("key"), max_length=40, validators=[node_key_validator])
    kind = models.CharField(_("kind"), max_length=20, choices=NodeKind.choices)
    label = models.CharField(_("label"), max_length=100, blank=True)
    config = models.JSONField(_("configuration"), default=dict, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("flow node")
        verbose_name_plural = _("flow nodes")
        ordering = ["position", "key"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="ivr_node_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.kind})"


class Prompt(TimeStampedModel):
    """A named announcement, recorded or written once per language."""

    name = models.SlugField(_("name"), max_length=60, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("prompt")
        verbose_name_plural = _("prompts")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def prompt_upload_path(variant: PromptVariant, filename: str) -> str:
    return f"ivr/prompts/uploads/{variant.prompt.name}-{variant.language}-{filename}"


class PromptVariant(models.Model):
    """A prompt in one language: an uploaded recording and/or a text for speech synthesis."""

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Uploaded recording")
        TTS = "tts", _("Synthesised from the text")
        TEXT = "text", _("Text only (FreeSWITCH speaks it or plays a tone)")

    prompt = models.ForeignKey(
        Prompt, verbose_name=_("prompt"), on_delete=models.CASCADE, related_name="variants"
    )
    language = models.CharField(_("language"), max_length=10, choices=ivr_language_choices)
    text = models.TextField(
        _("text"),
        blank=True,
        help_text=_("What the prompt says; spoken by a TTS engine if no recording."),
    )
    upload = models.FileField(_("recording"), upload_to=prompt_upload_path, blank=True)
    source = models.CharField(
        _("audio source"),
        max_length=10,
        choices=Source.choices,
        default=Source.TEXT,
        editable=False,
    )
    audio_8k = models.FileField(_("8 kHz WAV"), blank=True, editable=False)
    audio_16k = models.FileField(_("16 kHz WAV"), blank=True, editable=False)
    checksum = models.CharField(_("checksum"), max_length=64, blank=True, editable=False)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("prompt variant")
        verbose_name_plural = _("prompt variants")
        ordering = ["prompt__name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["prompt", "language"], name="ivr_prompt_language_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prompt.name} [{self.language}]"

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_8k) and bool(self.audio_16k)


class InboundNumber(TimeStampedModel):
    """A dialled number (DID) and the flow that answers it."""

    number = models.CharField(_("number"), max_length=21, unique=True, validators=[did_validator])
    flow = models.ForeignKey(
        Flow, verbose_name=_("flow"), on_delete=models.PROTECT, related_name="numbers"
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("inbound number")
        verbose_name_plural = _("inbound numbers")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number


class IvrPath(models.Model):
    """The way one call went through the IVR; its id is the call's cc_ivr_path."""

    class Outcome(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        QUEUED = "queued", _("Entered a queue")
        TRANSFERRED = "transferred", _("Transferred")
        CALLBACK = "callback", _("Asked for a callback")
        VOICEMAIL = "voicemail", _("Left a voicemail")
        HUNG_UP = "hung_up", _("Ended by the flow")
        ABANDONED = "abandoned", _("Caller hung up in the IVR")
        FALLBACK = "fallback", _("Left to the dialplan's safe destination")

    call_uuid = models.CharField(_("call UUID"), max_length=64, unique=True)
    flow = models.ForeignKey(
        Flow, verbose_name=_("flow"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    version = models.ForeignKey(
        FlowVersion,
        verbose_name=_("version"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    did = models.CharField(_("dialled number"), max_length=32, blank=True)
    caller_number = models.CharField(_("caller number"), max_length=64, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    started_at = models.DateTimeField(_("started at"), db_index=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.IN_PROGRESS
    )
    last_node = models.CharField(_("last node"), max_length=40, blank=True)
    queue = models.CharField(_("queue"), max_length=64, blank=True)
    attributes = models.JSONField(_("call attributes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("IVR path")
        verbose_name_plural = _("IVR paths")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["flow", "outcome", "last_node"])]

    def __str__(self) -> str:
        return self.call_uuid


class IvrStep(models.Model):
    """One event of a path (append-only): a node entered, a key pressed, a timeout..."""

    class Event(models.TextChoices):
        ENTER = "enter", _("Entered")
        INPUT = "input", _("Caller input")
        TIMEOUT = "timeout", _("No input")
        INVALID = "invalid", _("Invalid input")
        FAILED = "failed", _("Gave up after retries")
        BRANCH = "branch", _("Branch taken")
        EXIT = "exit", _("Left the IVR")
        HANGUP = "hangup", _("Caller hung up")
        ERROR = "error", _("Error")

    path = models.ForeignKey(
        IvrPath, verbose_name=_("path"), on_delete=models.CASCADE, related_name="steps"
    )
    seq = models.PositiveIntegerField(_("sequence"))
    node = models.CharField(_("node"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=20, blank=True)
    event = models.CharField(_("event"), max_length=10, choices=Event.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    elapsed_ms = models.PositiveIntegerField(_("elapsed (ms)"), default=0)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("IVR step")
        verbose_name_plural = _("IVR steps")
        ordering = ["path", "seq"]

    def __str__(self) -> str:
        return f"{self.seq} {self.node} {self.event}"


def voicemail_upload_path(voicemail: Voicemail, filename: str) -> str:
    return f"ivr/voicemail/{voicemail.call_uuid}.wav"


class Voicemail(models.Model):
    """A message a caller recorded in the IVR, uploaded by FreeSWITCH with the next request."""

    path = models.ForeignKey(
        IvrPath, verbose_name=_("path"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    call_uuid = models.CharField(_("call UUID"), max_length=64, unique=True)
    caller_number = models.CharField(_("caller number"), max_length=64, blank=True)
    queue = models.CharField(_("queue"), max_length=64, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    audio = models.FileField(_("recording"), upload_to=voicemail_upload_path)
    size_bytes = models.PositiveIntegerField(_("size (bytes)"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    handled = models.BooleanField(_("handled"), default=False)

    class Meta:
        verbose_name = _("voicemail")
        verbose_name_plural = _("voicemails")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.caller_number} {self.created_at:%Y-%m-%d %H:%M}"


class CallbackRequest(models.Model):
    """A caller's request, taken in the IVR, to be called back by a queue's agents."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    path = models.ForeignKey(
        IvrPath, verbose_name=_("path"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    call_uuid = models.CharField(_("call UUID"), max_length=64, unique=True)
    number = models.CharField(_("number to call"), max_length=64)
    queue = models.CharField(_("queue"), max_length=64, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    customer_id = models.CharField(_("customer id"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("callback request")
        verbose_name_plural = _("callback requests")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_status_display()})"
