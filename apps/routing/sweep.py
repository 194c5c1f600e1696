"""The periodic sweep (Celery beat, every second): everything time-driven, and the safety net.

It expires unanswered offers whose failure event was lost (RONA), ends timed wrap-ups, applies due
overflow rules and maximum waits, makes every routing decision still possible (so a lost event
delays a decision by at most one sweep), refreshes positions and wait estimates, announces them
to waiting callers, and pushes queue statistics that changed. One sweep runs at a time
(PostgreSQL advisory lock); a sweep that finds the lock taken does nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from apps.routing import conf, notifications, router, services
from apps.routing.models import Queue
from apps.routing.selectors import queue_stats

logger = logging.getLogger(__name__)

# An arbitrary application-wide key for pg_try_advisory_lock ("ACD" in ASCII).
SWEEP_LOCK_KEY = 0x414344
_EWT_REFRESHED_KEY = "routing:ewt-refreshed-at"
_STATS_DIGEST_KEY = "routing:queue-stats:{queue_id}"


@dataclass
class SweepReport:
    ran: bool = False
    expired_offers: int = 0
    finished_wrap_ups: int = 0
    overflowed: int = 0
    decisions: int = 0
    positions_refreshed: int = 0
    announcements: int = 0
    stats_pushed: list[int] = field(default_factory=list)


def _try_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SWEEP_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def _unlock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [SWEEP_LOCK_KEY])


def push_changed_queue_stats(*, now: datetime) -> list[int]:
    """Push the statistics of every active queue whose figures changed since the last push."""
    pushed: list[int] = []
    for queue in Queue.objects.filter(is_active=True).prefetch_related("teams"):
        stats = queue_stats(queue=queue, now=now)
        digest = hashlib.sha256(json.dumps(stats, sort_keys=True).encode()).hexdigest()
        key = _STATS_DIGEST_KEY.format(queue_id=queue.pk)
        if cache.get(key) == digest:
            continue
        cache.set(key, digest, timeout=3600)
        notifications.queue_stats(queue.pk, stats)
        pushed.append(queue.pk)
    return pushed


def _refresh_due(now: datetime) -> bool:
    last = cache.get(_EWT_REFRESHED_KEY)
    if last is not None and now.timestamp() - last < conf.ewt_refresh_seconds():
        return False
    cache.set(_EWT_REFRESHED_KEY, now.timestamp(), timeout=3600)
    return True


def run_sweep(*, now: datetime | None = None, force_refresh: bool = False) -> SweepReport:
    """Run one sweep; return what it did."""
    now = now or timezone.now()
    report = SweepReport()
    if not _try_lock():
        return report
    try:
        report.ran = True
        report.expired_offers = services.offers_expire_due(now=now)
        report.finished_wrap_ups = len(services.wrap_up_finish_due(now=now))
        report.overflowed = services.overflow_apply_due(now=now)
        report.decisions = len(router.route_pending(now=now))
        if force_refresh or _refresh_due(now):
            report.positions_refreshed = services.waiting_positions_refresh(now=now)
        report.announcements = services.announcements_send_due(now=now)
        report.stats_pushed = push_changed_queue_stats(now=now)
    finally:
        _unlock()
    return report
