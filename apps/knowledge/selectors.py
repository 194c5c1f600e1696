"""Reads of the knowledge base, scoped by the acting user.

Who sees what: everyone with knowledge.view_article sees published public articles; staff roles
(knowledge.view_internal_article) also published internal ones; editors (knowledge.change_article)
see everything, drafts included. Suggestions only ever offer published articles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from apps.accounts.models import User
from apps.knowledge.models import Article, ArticleVersion, Category, Visibility
from apps.knowledge.ranking import boosted_score
from apps.knowledge.search import ARTICLE_DOC_TYPE
from apps.search import Match, SearchHit, get_search_backend

SEARCH_MAX_LIMIT = 50
SUGGEST_MAX_LIMIT = 20
# Candidates fetched per suggestion shown, so feedback can reorder beyond the first few text hits.
CANDIDATES_PER_RESULT = 4
MIN_CANDIDATES = 20


def user_may_read_articles(actor: User) -> bool:
    return actor.has_perm("knowledge.view_article")


def user_may_edit_articles(actor: User) -> bool:
    """Return True for editors: they see drafts and change articles."""
    return actor.has_perm("knowledge.change_article")


def user_may_see_internal(actor: User) -> bool:
    return actor.has_perm("knowledge.view_internal_article") or user_may_edit_articles(actor)


def article_list_visible(*, actor: User) -> QuerySet[Article]:
    """Return the articles the actor may read."""
    # The search vector (kilobytes, stored out of line) is never read in Python.
    articles = Article.objects.select_related("group", "group__category").defer("search_vector")
    if not user_may_read_articles(actor):
        return articles.none()
    if user_may_edit_articles(actor):
        return articles.all()
    articles = articles.filter(status=Article.Status.PUBLISHED)
    if not user_may_see_internal(actor):
        articles = articles.filter(group__visibility=Visibility.PUBLIC)
    return articles


def article_variants(*, actor: User, article: Article) -> QuerySet[Article]:
    """Return the other languages of an article that the actor may read."""
    return (
        article_list_visible(actor=actor)
        .filter(group_id=article.group_id)
        .exclude(pk=article.pk)
        .order_by("language")
    )


def article_version_list(*, article: Article) -> QuerySet[ArticleVersion]:
    """Return an article's versions, newest first (the caller has checked access to it)."""
    return article.versions.select_related("created_by").order_by("-number")


def category_list(*, actor: User) -> QuerySet[Category]:
    """Return the categories (they name no secret, but reading them needs the permission)."""
    if not actor.has_perm("knowledge.view_category"):
        return Category.objects.none()
    return Category.objects.all()


@dataclass(frozen=True)
class ArticleHit:
    """A ranked article: `text_score` from the search engine, `score` after feedback and usage."""

    article: Article
    score: float
    text_score: float


def _scope_filters(actor: User, *, status: str | None) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    if user_may_edit_articles(actor):
        filters["status"] = status
    else:
        filters["status"] = Article.Status.PUBLISHED
    if not user_may_see_internal(actor):
        filters["visibility"] = Visibility.PUBLIC
    return filters


@dataclass(frozen=True)
class _Ranked:
    article_id: int
    score: float
    text_score: float


def _rank(hits: Sequence[SearchHit], readable: QuerySet[Article]) -> list[_Ranked]:
    """Return the hits the actor may read, reordered by feedback and usage (no article loaded)."""
    counters = {
        pk: (helpful, not_helpful, opened + linked)
        for pk, helpful, not_helpful, opened, linked in readable.filter(
            pk__in=[int(hit.doc_id) for hit in hits]
        )
        .order_by()
        .values_list("pk", "helpful_count", "not_helpful_count", "open_count", "ticket_link_count")
    }
    ranked = []
    for hit in hits:
        article_id = int(hit.doc_id)
        if article_id not in counters:  # hidden from this actor, or gone since it was indexed
            continue
        helpful, not_helpful, uses = counters[article_id]
        score = boosted_score(hit.score, helpful=helpful, not_helpful=not_helpful, uses=uses)
        ranked.append(_Ranked(article_id=article_id, score=score, text_score=hit.score))
    ranked.sort(key=lambda item: (-item.score, item.article_id))
    return ranked


def _load(ranked: Sequence[_Ranked], readable: QuerySet[Article]) -> list[ArticleHit]:
    """Load only the articles that are shown, keeping the ranking."""
    articles = readable.in_bulk([item.article_id for item in ranked])
    return [
        ArticleHit(article=articles[item.article_id], score=item.score, text_score=item.text_score)
        for item in ranked
        if item.article_id in articles
    ]


def _site_language(language: str | None) -> str | None:
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else None


def article_search(
    *,
    actor: User,
    query: str,
    language: str | None = None,
    category: str | None = None,
    status: str | None = None,
    limit: int = 20,
) -> list[ArticleHit]:
    """Return the articles matching every term of the query, best first, that the actor may read.

    `status` is honoured for editors only; everybody else searches published articles.
    """
    if not user_may_read_articles(actor):
        return []
    limit = max(1, min(limit, SEARCH_MAX_LIMIT))
    filters = {**_scope_filters(actor, status=status), "category": category}
    hits = get_search_backend().search(
        ARTICLE_DOC_TYPE,
        query,
        filters=filters,
        language=_site_language(language),
        limit=max(limit * CANDIDATES_PER_RESULT, MIN_CANDIDATES),
        match=Match.ALL,
    )
    readable = article_list_visible(actor=actor)
    return _load(_rank(hits, readable)[:limit], readable)


def _words(values: Sequence[str]) -> list[str]:
    # Slugs such as "after-sales" or "vip_support" are words to the search engine.
    return [value.replace("-", " ").replace("_", " ").strip() for value in values if value]


@dataclass(frozen=True)
class SuggestionContext:
    """What is known about a contact when the agent gets it."""

    ivr_path: Sequence[str] = field(default_factory=tuple)  # labels of the IVR choices, in order
    queue_name: str = ""
    queue_slug: str = ""
    skills: Sequence[str] = field(default_factory=tuple)
    language: str = ""  # the customer's language
    ticket_subject: str = ""
    ticket_text: str = ""

    def query_text(self) -> str:
        """Return the words to search for, most specific first."""
        parts = [
            self.ticket_subject,
            *self.ivr_path,
            self.queue_name,
            *_words([self.queue_slug, *self.skills]),
            self.ticket_text,
        ]
        return " ".join(part.strip() for part in parts if part and part.strip())


def article_suggest(*, actor: User, context: SuggestionContext, limit: int = 5) -> list[ArticleHit]:
    """Return published articles for the contact, best first: the customer's language first.

    The query matches any of the context's words; feedback and usage reorder the text ranking
    within bounds (apps.knowledge.ranking).
    """
    if not user_may_read_articles(actor):
        return []
    query = context.query_text()
    if not query:
        return []
    limit = max(1, min(limit, SUGGEST_MAX_LIMIT))
    filters = _scope_filters(actor, status=Article.Status.PUBLISHED)
    backend = get_search_backend()
    language = _site_language(context.language)
    candidates = max(limit * CANDIDATES_PER_RESULT, MIN_CANDIDATES)
    tiers = [
        backend.search(
            ARTICLE_DOC_TYPE,
            query,
            filters=filters,
            language=language,
            limit=candidates,
            match=Match.ANY,
        )
    ]
    if language and len(tiers[0]) < limit:
        # Too little in the customer's language: an article in another one still helps the agent.
        found = {hit.doc_id for hit in tiers[0]}
        others = backend.search(
            ARTICLE_DOC_TYPE, query, filters=filters, limit=candidates, match=Match.ANY
        )
        tiers.append([hit for hit in others if hit.doc_id not in found])
    readable = article_list_visible(actor=actor).filter(status=Article.Status.PUBLISHED)
    ranked: list[_Ranked] = []
    for tier in tiers:
        ranked.extend(_rank(tier, readable))
    return _load(ranked[:limit], readable)
