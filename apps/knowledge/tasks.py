"""Celery tasks of the knowledge base."""

from __future__ import annotations

from celery import shared_task

from apps.knowledge.services import article_index_now
from apps.search import SearchUnavailable


@shared_task(
    autoretry_for=(SearchUnavailable,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=10,
    acks_late=True,
    ignore_result=True,
)
def article_index(article_id: int) -> None:
    """Write the article's current state to a remote search index (safe to run twice)."""
    article_index_now(article_id=article_id)
