"""The admin: editing makes versions, the history is read-only, publishing is an action,
and the search box finds Chinese words inside text."""

from __future__ import annotations

import pytest

from apps.knowledge.models import Article, ArticleVersion
from tests.knowledge.helpers import make_article

pytestmark = pytest.mark.django_db

URL = "/admin/knowledge/article/"


def _form(article, **changes):
    data = {
        "title": article.title,
        "summary": article.summary,
        "body": article.body,
        "tags": ",".join(article.tags),
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_the_change_page_shows_the_history(cast, client):
    article = make_article(title="Warranty", body="One year.", actor=cast.supervisor_a)
    client.force_login(cast.admin)

    response = client.get(f"{URL}{article.pk}/change/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "History" in content
    assert 'name="versions-0-change_note"' not in content


def test_saving_in_the_admin_records_a_version_by_the_admin(cast, client):
    article = make_article(title="Warranty", body="One year.", tags=["repair"])
    client.force_login(cast.admin)

    response = client.post(
        f"{URL}{article.pk}/change/", _form(article, body="Two years.", tags="repair,Warranty")
    )

    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.body, article.tags, article.version) == (
        "Two years.",
        ["repair", "warranty"],
        2,
    )
    assert ArticleVersion.objects.get(article=article, number=2).created_by == cast.admin


def test_adding_in_the_admin_creates_a_draft_with_version_one(cast, client):
    existing = make_article(title="Warranty", body="One year.")
    client.force_login(cast.admin)

    response = client.post(
        f"{URL}add/",
        {
            "group": existing.group.pk,
            "language": "zh-hans",
            "title": "保修",
            "summary": "",
            "body": "一年保修。",
            "tags": "保修",
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    created = Article.objects.get(group=existing.group, language="zh-hans")
    assert (created.status, created.version, created.created_by) == ("draft", 1, cast.admin)
    assert created.search_vector is not None


def test_the_publish_action(cast, client):
    draft = make_article(title="Warranty", body="One year.", published=False)
    client.force_login(cast.admin)

    response = client.post(URL, {"action": "publish", "_selected_action": [draft.pk]})

    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.published_by) == ("published", cast.admin)


def test_the_admin_search_finds_a_chinese_word_inside_a_title(cast, client):
    make_article(title="增值税专用发票的开具", body="需要税号。", language="zh-hans")
    make_article(title="退款政策", body="三十天内。", language="zh-hans")
    client.force_login(cast.admin)

    response = client.get(URL, {"q": "发票"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list.values_list("title", flat=True)) == [
        "增值税专用发票的开具"
    ]
