"""Every change to an article's text is a version: who, when, why; an old one can be restored."""

from __future__ import annotations

import pytest

from apps.core.errors import Conflict, NotFound
from apps.knowledge.models import Article, ArticleVersion
from apps.knowledge.selectors import article_search
from apps.knowledge.services import article_restore_version, article_update
from tests.knowledge.helpers import make_article

pytestmark = pytest.mark.django_db


def _history(article):
    return list(
        ArticleVersion.objects.filter(article=article)
        .order_by("number")
        .values_list("number", "title", "created_by__username", "change_note", "restored_from")
    )


def test_creating_an_article_records_version_one_by_its_author(cast):
    article = make_article(title="Warranty", body="One year.", actor=cast.supervisor_a)

    assert article.version == 1
    assert _history(article) == [(1, "Warranty", "supervisor_a", "", None)]


def test_an_edit_records_a_new_version_with_who_and_why(cast):
    article = make_article(title="Warranty", body="One year.", actor=cast.supervisor_a)

    updated = article_update(
        actor=cast.admin,
        article=article,
        body="Two years.",
        tags=["Repair", "repair "],
        change_note="Longer warranty from March.",
    )

    assert updated.version == 2
    assert updated.body == "Two years."
    assert updated.tags == ["repair"]
    assert updated.updated_by == cast.admin
    assert _history(article) == [
        (1, "Warranty", "supervisor_a", "", None),
        (2, "Warranty", "admin", "Longer warranty from March.", None),
    ]
    version_two = ArticleVersion.objects.get(article=article, number=2)
    assert (version_two.body, version_two.tags) == ("Two years.", ["repair"])
    assert (
        version_two.created_at >= ArticleVersion.objects.get(article=article, number=1).created_at
    )


def test_saving_the_same_text_records_no_version(cast):
    article = make_article(title="Warranty", body="One year.", actor=cast.supervisor_a)

    unchanged = article_update(
        actor=cast.admin, article=article, title="Warranty", body="One year."
    )

    assert unchanged.version == 1
    assert ArticleVersion.objects.filter(article=article).count() == 1


def test_restoring_an_old_version_makes_it_current_as_a_new_version(cast):
    article = make_article(
        title="Warranty", body="One year of cover.", tags=["repair"], actor=cast.supervisor_a
    )
    article_update(
        actor=cast.supervisor_a,
        article=article,
        title="Guarantee",
        body="Two years of cover.",
        tags=["guarantee"],
    )

    restored = article_restore_version(
        actor=cast.admin, article=article, number=1, change_note="Back to one year."
    )

    assert (restored.title, restored.body, restored.tags, restored.version) == (
        "Warranty",
        "One year of cover.",
        ["repair"],
        3,
    )
    assert _history(article) == [
        (1, "Warranty", "supervisor_a", "", None),
        (2, "Guarantee", "supervisor_a", "", None),
        (3, "Warranty", "admin", "Back to one year.", 1),
    ]
    assert restored.status == Article.Status.PUBLISHED


def test_the_search_index_follows_a_restore(cast):
    article = make_article(title="Warranty", body="One year of cover.")
    article_update(actor=cast.admin, article=article, title="Guarantee")

    article_restore_version(actor=cast.admin, article=article, number=1)

    assert [hit.article.pk for hit in article_search(actor=cast.admin, query="warranty")] == [
        article.pk
    ]
    assert article_search(actor=cast.admin, query="guarantee") == []


def test_restoring_the_current_version_is_refused_and_changes_nothing(cast):
    article = make_article(title="Warranty", body="One year.")

    with pytest.raises(Conflict):
        article_restore_version(actor=cast.admin, article=article, number=1)

    article.refresh_from_db()
    assert article.version == 1
    assert ArticleVersion.objects.filter(article=article).count() == 1


def test_restoring_a_missing_version_is_not_found(cast):
    article = make_article(title="Warranty", body="One year.")

    with pytest.raises(NotFound):
        article_restore_version(actor=cast.admin, article=article, number=7)

    assert ArticleVersion.objects.filter(article=article).count() == 1
