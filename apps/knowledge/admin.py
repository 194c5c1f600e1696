"""Editors' admin: articles with their read-only history, publish actions, full-text search.

Saving goes through the services, so an edit here makes a version and updates the search index
exactly like an edit through the API.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.knowledge import services
from apps.knowledge.models import Article, ArticleGroup, ArticleVersion, Category
from apps.knowledge.selectors import article_search


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class VariantInline(admin.TabularInline):
    model = Article
    fields = ("language", "title", "status", "version", "updated_at")
    readonly_fields = fields
    show_change_link = True
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ArticleGroup)
class ArticleGroupAdmin(admin.ModelAdmin):
    list_display = ("key", "category", "visibility", "updated_at")
    list_filter = ("category", "visibility")
    search_fields = ("key",)
    inlines = [VariantInline]

    def delete_model(self, request: HttpRequest, obj: ArticleGroup) -> None:
        services.article_group_delete(actor=request.user, group=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ArticleGroup]) -> None:
        for group in queryset:
            services.article_group_delete(actor=request.user, group=group)

    def save_model(self, request: HttpRequest, obj: ArticleGroup, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Through the service: every language's index entry follows the new category/visibility.
        services.article_group_update(
            actor=request.user, group=obj, category=obj.category, visibility=obj.visibility
        )


class VersionInline(admin.TabularInline):
    """The article's history, read-only: who changed what, when."""

    model = ArticleVersion
    fields = ("number", "title", "tags", "change_note", "restored_from", "created_by", "created_at")
    readonly_fields = fields
    ordering = ("-number",)
    extra = 0
    can_delete = False
    verbose_name_plural = _("history")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "language",
        "group",
        "status",
        "version",
        "helpful_count",
        "not_helpful_count",
        "open_count",
        "ticket_link_count",
        "updated_at",
    )
    list_filter = ("status", "language", "group__visibility", "group__category")
    search_fields = ("title", "group__key")
    autocomplete_fields = ("group",)
    readonly_fields = (
        "status",
        "version",
        "published_at",
        "published_by",
        "created_by",
        "updated_by",
        "helpful_count",
        "not_helpful_count",
        "open_count",
        "ticket_link_count",
    )
    fields = ("group", "language", "title", "summary", "body", "tags", *readonly_fields)
    inlines = [VersionInline]
    actions = ["publish", "unpublish"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Article], search_term: str
    ) -> tuple[QuerySet[Article], bool]:
        """Add full-text matches (Chinese segmented) to the admin's title and key search."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            hits = article_search(actor=request.user, query=search_term, limit=50)
            matched = queryset.filter(pk__in=[hit.article.pk for hit in hits])
            results = results | matched
        return results, may_have_duplicates

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # A variant stays in its group and language; add another variant instead.
        if obj is not None:
            return ("group", "language", *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Article, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            services.article_update(
                actor=request.user,
                article=obj,
                title=data["title"],
                summary=data["summary"],
                body=data["body"],
                tags=data["tags"],
            )
        else:
            created = services.article_create(
                actor=request.user,
                group=data["group"],
                language=data["language"],
                title=data["title"],
                summary=data["summary"],
                body=data["body"],
                tags=data["tags"],
            )
            obj.pk = created.pk
        # The admin goes on with this object (messages, redirect): give it the saved state.
        obj.refresh_from_db()

    def delete_model(self, request: HttpRequest, obj: Article) -> None:
        services.article_delete(actor=request.user, article=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        for article in queryset:
            services.article_delete(actor=request.user, article=article)

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("knowledge.publish_article")

    @admin.action(description=_("Publish the selected articles"), permissions=["publish"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        count = 0
        for article in queryset:
            services.article_publish(actor=request.user, article=article)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d article published.", "%(count)d articles published.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Unpublish the selected articles"), permissions=["publish"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        count = 0
        for article in queryset:
            services.article_unpublish(actor=request.user, article=article)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d article unpublished.", "%(count)d articles unpublished.", count)
            % {"count": count},
            messages.SUCCESS,
        )
