"""Object-level access to articles: missing and forbidden give the same NotFound."""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import NotFound
from apps.knowledge.models import Article
from apps.knowledge.selectors import article_list_visible, user_may_edit_articles


def access_article_by_id(actor: User, article_id: object) -> Article:
    """Return the article if the actor may read it."""
    article = article_list_visible(actor=actor).filter(pk=article_id).first()
    if article is None:
        raise NotFound(_("Article not found."))
    return article


def access_article_for_change(actor: User, article_id: object) -> Article:
    """Return the article if the actor may edit it (editors: any article, drafts included)."""
    if not user_may_edit_articles(actor):
        raise NotFound(_("Article not found."))
    return access_article_by_id(actor, article_id)
