"""The knowledge base: categories, articles in several languages, their versions, feedback, usage.

An ArticleGroup is one piece of knowledge (category, visibility); each Article is its text in one
language, with its own status and history. Search reads the `search_vector` column (see
apps/knowledge/search.py); counters are kept on the article for ranking and for editors.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public (may be shared with customers and CRMs)")
    INTERNAL = "internal", _("Internal (staff only)")


class ArticleGroup(TimeStampedModel):
    """One article across languages: what its variants share."""

    key = models.SlugField(
        _("key"), max_length=120, unique=True, help_text=_("A stable name, e.g. refund-policy.")
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="article_groups",
        null=True,
        blank=True,
    )
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL
    )

    class Meta:
        verbose_name = _("article group")
        verbose_name_plural = _("article groups")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class Article(TimeStampedModel):
    """An article's text in one language, with its status, current version and counters."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    group = models.ForeignKey(
        ArticleGroup,
        verbose_name=_("article group"),
        on_delete=models.CASCADE,
        related_name="variants",
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    body = models.TextField(_("body"))
    tags = ArrayField(
        models.CharField(max_length=50), verbose_name=_("tags"), default=list, blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    helpful_count = models.PositiveIntegerField(_("helpful"), default=0)
    not_helpful_count = models.PositiveIntegerField(_("not helpful"), default=0)
    open_count = models.PositiveIntegerField(
        _("opened"),
        default=0,
        help_text=_("Times agents opened it (from a suggestion, search...)."),
    )
    ticket_link_count = models.PositiveIntegerField(_("linked to tickets"), default=0)
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["group__key", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "language"], name="knowledge_one_per_language"
            ),
        ]
        indexes = [
            # Read-mostly: without the pending list, searches never scan unmerged entries
            # after a bulk import; the rare edits pay the index update at once instead.
            GinIndex(fields=["search_vector"], name="knowledge_article_search", fastupdate=False),
            GinIndex(fields=["tags"], name="knowledge_article_tags"),
            models.Index(fields=["status", "language"], name="knowledge_status_language"),
        ]
        permissions = [
            ("publish_article", _("Publish and unpublish articles")),
            ("view_internal_article", _("Read internal (staff-only) articles")),
        ]

    def __str__(self) -> str:
        return f"{self.title} [{self.language}]"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class ArticleVersion(models.Model):
    """A saved state of an article's text: who wrote it, when, and why. Never changed."""

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    body = models.TextField(_("body"))
    tags = ArrayField(models.CharField(max_length=50), verbose_name=_("tags"), default=list)
    change_note = models.CharField(_("change note"), max_length=300, blank=True)
    restored_from = models.PositiveIntegerField(_("restored from version"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="knowledge_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class ArticleFeedback(TimeStampedModel):
    """One user's verdict on an article; voting again replaces it."""

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="feedback"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    helpful = models.BooleanField(_("helpful"))
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    call_uuid = models.CharField(_("call"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("article feedback")
        verbose_name_plural = _("article feedback")
        constraints = [
            models.UniqueConstraint(fields=["article", "user"], name="knowledge_one_vote_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} {'+' if self.helpful else '-'} {self.user_id}"


class ArticleUsage(models.Model):
    """An agent used an article: opened it (from a suggestion, a search...) or linked it to a
    ticket.

    `ticket_id` is the tickets app's ticket number, kept without a foreign key so the knowledge
    base does not depend on the tickets app.
    """

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        LINKED_TO_TICKET = "linked_to_ticket", _("Linked to a ticket")

    class Source(models.TextChoices):
        SUGGESTION = "suggestion", _("Suggestion")
        SEARCH = "search", _("Search")
        BROWSE = "browse", _("Browsing")
        TICKET = "ticket", _("Ticket")

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="usages"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    ticket_id = models.PositiveBigIntegerField(_("ticket"), null=True, blank=True)
    call_uuid = models.CharField(_("call"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("article usage")
        verbose_name_plural = _("article usage")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "ticket_id"],
                condition=models.Q(kind="linked_to_ticket"),
                name="knowledge_one_link_per_ticket",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} {self.kind} {self.source}"
