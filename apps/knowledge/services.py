"""Writes to the knowledge base. Each keeps the search index in step with the article:
in the same transaction for PostgreSQL, after commit through a Celery task for Elasticsearch.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, InvalidInput, NotFound
from apps.core.transactions import enqueue_on_commit
from apps.knowledge.models import (
    Article,
    ArticleFeedback,
    ArticleGroup,
    ArticleUsage,
    ArticleVersion,
    Category,
    Visibility,
)
from apps.knowledge.search import ARTICLE_DOC_TYPE, article_search_document
from apps.search import get_search_backend

MAX_TAGS = 20
MAX_TAG_LENGTH = 50


class _Keep(Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP  # "leave this field as it is" where None is a meaningful value


def normalize_tags(tags: Iterable[str]) -> list[str]:
    """Return the tags stripped, lower-cased, without duplicates, in their first order."""
    result: list[str] = []
    for tag in tags:
        cleaned = " ".join(str(tag).split()).lower()[:MAX_TAG_LENGTH]
        if cleaned and cleaned not in result:
            result.append(cleaned)
    if len(result) > MAX_TAGS:
        raise InvalidInput(
            _("An article has at most %(count)d tags.") % {"count": MAX_TAGS}, field="tags"
        )
    return result


def article_index_now(*, article_id: int) -> None:
    """Write one article to the search index, or remove it there if it no longer exists."""
    article = (
        Article.objects.select_related("group", "group__category").filter(pk=article_id).first()
    )
    backend = get_search_backend()
    if article is None:
        backend.delete(ARTICLE_DOC_TYPE, str(article_id))
        return
    backend.index(article_search_document(article))


def _index_articles(articles: Iterable[Article]) -> None:
    backend = get_search_backend()
    if backend.transactional:
        backend.index_many(article_search_document(article) for article in articles)
        return
    from apps.knowledge.tasks import article_index

    for article in articles:
        enqueue_on_commit(article_index, article.pk)


def _unindex(article_ids: Iterable[int]) -> None:
    # A deleted row took its PostgreSQL index entry with it; a remote index needs telling.
    if get_search_backend().transactional:
        return
    from apps.knowledge.tasks import article_index

    for article_id in article_ids:
        enqueue_on_commit(article_index, article_id)


def _check_language(language: str) -> None:
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise InvalidInput(_("Unknown language."), field="language")


def _check_visibility(visibility: str) -> None:
    if visibility not in Visibility.values:
        raise InvalidInput(_("Unknown visibility."), field="visibility")


def _free_key(title: str) -> str:
    base = (slugify(title) or "article")[:100]
    key, suffix = base, 2
    while ArticleGroup.objects.filter(key=key).exists():
        key, suffix = f"{base}-{suffix}", suffix + 1
    return key


def _record_version(
    article: Article, *, actor: User | None, change_note: str, restored_from: int | None = None
) -> ArticleVersion:
    return ArticleVersion.objects.create(
        article=article,
        number=article.version,
        title=article.title,
        summary=article.summary,
        body=article.body,
        tags=list(article.tags),
        change_note=change_note[:300],
        restored_from=restored_from,
        created_by=actor,
    )


@transaction.atomic
def category_create(*, name: str, slug: str, description: str = "", position: int = 0) -> Category:
    """Create a category; its slug must be free."""
    if Category.objects.filter(slug=slug).exists():
        raise Conflict(_("A category with this slug exists."), field="slug")
    return Category.objects.create(name=name, slug=slug, description=description, position=position)


@transaction.atomic
def article_create(
    *,
    actor: User | None,
    language: str,
    title: str,
    body: str,
    summary: str = "",
    tags: Iterable[str] = (),
    group: ArticleGroup | None = None,
    key: str = "",
    category: Category | None = None,
    visibility: str = Visibility.INTERNAL,
    change_note: str = "",
) -> Article:
    """Create a draft article (version 1): a new article group, or a language variant of `group`.

    Category, visibility and key belong to the group; they are used only for a new group.
    """
    _check_language(language)
    tags = normalize_tags(tags)
    if group is None:
        _check_visibility(visibility)
        if key and ArticleGroup.objects.filter(key=key).exists():
            raise Conflict(_("An article with this key exists."), field="key")
        group = ArticleGroup.objects.create(
            key=key or _free_key(title), category=category, visibility=visibility
        )
    else:
        group = ArticleGroup.objects.select_for_update().get(pk=group.pk)
        if group.variants.filter(language=language).exists():
            raise Conflict(_("The article already exists in this language."), field="language")
    try:
        with transaction.atomic():
            article = Article.objects.create(
                group=group,
                language=language,
                title=title,
                summary=summary,
                body=body,
                tags=tags,
                status=Article.Status.DRAFT,
                version=1,
                created_by=actor,
                updated_by=actor,
            )
    except IntegrityError as exc:
        raise Conflict(_("The article already exists in this language."), field="language") from exc
    _record_version(article, actor=actor, change_note=change_note)
    _index_articles([article])
    return article


def _lock(article: Article) -> Article:
    return (
        Article.objects.select_for_update(of=("self",))
        .select_related("group", "group__category")
        .get(pk=article.pk)
    )


@transaction.atomic
def article_update(
    *,
    actor: User | None,
    article: Article,
    title: str | None = None,
    summary: str | None = None,
    body: str | None = None,
    tags: Iterable[str] | None = None,
    category: Category | _Keep | None = KEEP,
    visibility: str | None = None,
    change_note: str = "",
) -> Article:
    """Change an article's text; a real change makes a new version, no change makes none.

    Category and visibility belong to the article group: changing them changes every language.
    """
    if category is not KEEP or visibility is not None:
        article_group_update(
            actor=actor, group=article.group, category=category, visibility=visibility
        )
    locked = _lock(article)
    wanted = {
        "title": title,
        "summary": summary,
        "body": body,
        "tags": normalize_tags(tags) if tags is not None else None,
    }
    changed = [
        name
        for name, value in wanted.items()
        if value is not None and getattr(locked, name) != value
    ]
    if not changed:
        return locked
    for name in changed:
        setattr(locked, name, wanted[name])
    locked.version += 1
    locked.updated_by = actor
    locked.save(update_fields=[*changed, "version", "updated_by", "updated_at"])
    _record_version(locked, actor=actor, change_note=change_note)
    _index_articles([locked])
    return locked


@transaction.atomic
def article_group_update(
    *,
    actor: User | None,
    group: ArticleGroup,
    category: Category | _Keep | None = KEEP,
    visibility: str | None = None,
) -> ArticleGroup:
    """Change what every language of an article shares: category and visibility."""
    locked = ArticleGroup.objects.select_for_update().get(pk=group.pk)
    changed: list[str] = []
    if category is not KEEP and locked.category_id != (category.pk if category else None):
        locked.category = category
        changed.append("category")
    if visibility is not None and visibility != locked.visibility:
        _check_visibility(visibility)
        locked.visibility = visibility
        changed.append("visibility")
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
        _index_articles(locked.variants.select_related("group", "group__category"))
    return locked


@transaction.atomic
def article_publish(*, actor: User | None, article: Article) -> Article:
    """Publish the article's current version; publishing a published article changes nothing."""
    locked = _lock(article)
    if locked.is_published:
        return locked
    locked.status = Article.Status.PUBLISHED
    locked.published_at = timezone.now()
    locked.published_by = actor
    locked.updated_by = actor
    locked.save(
        update_fields=["status", "published_at", "published_by", "updated_by", "updated_at"]
    )
    _index_articles([locked])
    return locked


@transaction.atomic
def article_unpublish(*, actor: User | None, article: Article) -> Article:
    """Take the article back to draft: only editors see it until it is published again."""
    locked = _lock(article)
    if not locked.is_published:
        return locked
    locked.status = Article.Status.DRAFT
    locked.updated_by = actor
    locked.save(update_fields=["status", "updated_by", "updated_at"])
    _index_articles([locked])
    return locked


@transaction.atomic
def article_restore_version(
    *, actor: User | None, article: Article, number: int, change_note: str = ""
) -> Article:
    """Make an earlier version's text current again, as a new version; history is kept."""
    locked = _lock(article)
    version = locked.versions.filter(number=number).first()
    if version is None:
        raise NotFound(_("Version not found."))
    if version.number == locked.version:
        raise Conflict(_("This is already the current version."), field="number")
    locked.title = version.title
    locked.summary = version.summary
    locked.body = version.body
    locked.tags = list(version.tags)
    locked.version += 1
    locked.updated_by = actor
    locked.save(
        update_fields=["title", "summary", "body", "tags", "version", "updated_by", "updated_at"]
    )
    _record_version(locked, actor=actor, change_note=change_note, restored_from=version.number)
    _index_articles([locked])
    return locked


@transaction.atomic
def article_feedback_record(
    *, actor: User, article: Article, helpful: bool, comment: str = "", call_uuid: str = ""
) -> ArticleFeedback:
    """Record the actor's verdict on an article (replacing an earlier one) and recount."""
    locked = _lock(article)
    feedback, _created = ArticleFeedback.objects.update_or_create(
        article=locked,
        user=actor,
        defaults={"helpful": helpful, "comment": comment[:500], "call_uuid": call_uuid[:64]},
    )
    counts = locked.feedback.aggregate(
        helpful_count=Count("pk", filter=Q(helpful=True)),
        not_helpful_count=Count("pk", filter=Q(helpful=False)),
    )
    # A queryset update: counters are not audited changes of the article.
    Article.objects.filter(pk=locked.pk).update(**counts)
    return feedback


@transaction.atomic
def article_usage_record(
    *,
    actor: User | None,
    article: Article,
    kind: str,
    source: str,
    ticket_id: int | None = None,
    call_uuid: str = "",
) -> tuple[ArticleUsage, bool]:
    """Record that an agent opened an article or linked it to a ticket; return (usage, created).

    Linking the same article to the same ticket again records nothing new.
    """
    if kind not in ArticleUsage.Kind.values:
        raise InvalidInput(_("Unknown usage kind."), field="kind")
    if source not in ArticleUsage.Source.values:
        raise InvalidInput(_("Unknown usage source."), field="source")
    linking = kind == ArticleUsage.Kind.LINKED_TO_TICKET
    if linking and ticket_id is None:
        raise InvalidInput(_("A ticket is required to link an article."), field="ticket_id")
    if linking:
        existing = ArticleUsage.objects.filter(
            article_id=article.pk, kind=kind, ticket_id=ticket_id
        ).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            usage = ArticleUsage.objects.create(
                article_id=article.pk,
                user=actor,
                kind=kind,
                source=source,
                ticket_id=ticket_id,
                call_uuid=call_uuid[:64],
            )
    except IntegrityError:
        # The same link recorded concurrently: the other request counted it.
        return ArticleUsage.objects.get(
            article_id=article.pk, kind=kind, ticket_id=ticket_id
        ), False
    counter = "ticket_link_count" if linking else "open_count"
    Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
    return usage, True


@transaction.atomic
def article_delete(*, actor: User | None, article: Article) -> None:
    """Delete one language of an article with its history; the search index follows."""
    article_id = article.pk
    article.delete()
    _unindex([article_id])


@transaction.atomic
def article_group_delete(*, actor: User | None, group: ArticleGroup) -> None:
    """Delete an article in every language; the search index follows."""
    article_ids = list(group.variants.values_list("pk", flat=True))
    group.delete()
    _unindex(article_ids)
