"""Build knowledge-base content through the services, as the application does."""

from __future__ import annotations

from collections.abc import Sequence

from apps.accounts.models import User
from apps.knowledge.models import Article, ArticleGroup, Category, Visibility
from apps.knowledge.services import article_create, article_publish, category_create


def make_category(slug: str, name: str | None = None) -> Category:
    existing = Category.objects.filter(slug=slug).first()
    return existing or category_create(name=name or slug.title(), slug=slug)


def make_article(
    *,
    title: str,
    body: str,
    language: str = "en",
    tags: Sequence[str] = (),
    summary: str = "",
    visibility: str = Visibility.PUBLIC,
    category: str | None = "after-sales",
    published: bool = True,
    group: ArticleGroup | None = None,
    actor: User | None = None,
) -> Article:
    article = article_create(
        actor=actor,
        language=language,
        title=title,
        body=body,
        summary=summary,
        tags=tags,
        group=group,
        category=make_category(category) if category else None,
        visibility=visibility,
    )
    if published:
        article = article_publish(actor=actor, article=article)
    return article
