"""Schedule side effects only once the surrounding transaction has committed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Send a Celery task after commit, so a worker never sees rows that were rolled back."""
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs))


def run_on_commit(callback: Callable[[], None]) -> None:
    """Run a callback (e.g. a WebSocket push) after commit."""
    transaction.on_commit(callback)
