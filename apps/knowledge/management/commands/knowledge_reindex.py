"""Rebuild the knowledge base's search index (after switching backends or restoring a dump)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.knowledge.models import Article
from apps.knowledge.search import ARTICLE_DOC_TYPE, article_search_document
from apps.search import get_search_backend

BATCH_SIZE = 500


class Command(BaseCommand):
    help = "Create the article index if needed and write every article to it."

    def handle(self, *args: Any, **options: Any) -> None:
        backend = get_search_backend()
        backend.setup(ARTICLE_DOC_TYPE)
        articles = Article.objects.select_related("group", "group__category").order_by("pk")
        written, last_pk = 0, 0
        while batch := list(articles.filter(pk__gt=last_pk)[:BATCH_SIZE]):
            written += backend.index_many(article_search_document(a) for a in batch)
            last_pk = batch[-1].pk
        self.stdout.write(f"indexed {written} articles with the {backend.name} backend")
