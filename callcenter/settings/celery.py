"""Celery: Redis broker, queues by purpose, late acks for work that must not be lost."""

from celery.schedules import crontab  # noqa: F401  (available to later beat entries)
from kombu import Queue

from apps.core.env import env_bool, env_int, env_str

_REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", _REDIS_URL.rsplit("/", 1)[0] + "/1")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", None)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (
    Queue("default"),
    Queue("telephony"),
    Queue("realtime"),
    Queue("reports"),
)
# Route by the app that owns the task; the telephony worker runs under gevent (greenswitch).
CELERY_TASK_ROUTES = {
    "apps.telephony.tasks.*": {"queue": "telephony"},
    "apps.routing.tasks.*": {"queue": "realtime"},
    "apps.reporting.tasks.*": {"queue": "reports"},
}
# A task is acknowledged only after it ran, so a worker crash redelivers it; tasks are idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "core-worker-heartbeat": {
        "task": "apps.core.tasks.record_worker_heartbeat",
        "schedule": 15.0,
    },
    # A lost event delays a routing decision by at most a second.
    "routing-sweep": {"task": "apps.routing.tasks.router_sweep", "schedule": 1.0},
    # Call commands whose execution message was lost are sent again (telephony queue); a sweep
    # left in the queue past the next one is dropped rather than run late.
    "telephony-command-sweep": {
        "task": "apps.telephony.tasks.sweep_call_commands",
        "schedule": 5.0,
        "options": {"expires": 5.0},
    },
    # SLA warnings and escalations (safe to run twice).
    "tickets-sla-sweep": {"task": "apps.tickets.tasks.sla_sweep", "schedule": 60.0},
}

# The call-command sweep: a command still pending this long after it was committed (or last sent
# again) lost its message and is sent again; one older than the max age is failed with EXPIRED
# instead of being carried out late (an originate also once its ring timeout has passed).
TELEPHONY_COMMAND_RESEND_AFTER_SECONDS = env_int("TELEPHONY_COMMAND_RESEND_AFTER_SECONDS", 5)
TELEPHONY_COMMAND_MAX_AGE_SECONDS = env_int("TELEPHONY_COMMAND_MAX_AGE_SECONDS", 60)
