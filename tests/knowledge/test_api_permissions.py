"""Permission matrix of the knowledge API.

Reading and searching: every role (API clients see published public articles only). Feedback and
usage: staff roles, not API clients. Writing, publishing, history and restore: editors
(supervisors and administrators). The knowledge base is not split by team, so there is no "own"
or "other" team supervisor here: any supervisor edits. Refusals change nothing.
"""

from __future__ import annotations

import pytest

from apps.knowledge.models import Article, ArticleFeedback, ArticleUsage, ArticleVersion
from tests.knowledge.helpers import make_article, make_category

pytestmark = pytest.mark.django_db

BASE = "/api/v1/knowledge"


def _users(cast):
    return {
        "anonymous": None,
        "agent": cast.agent_a1.user,
        "supervisor": cast.supervisor_b,
        "qa": cast.qa,
        "crm": cast.crm,
        "admin": cast.admin,
    }


@pytest.fixture
def article():
    return make_article(title="Refund policy", body="Refunds within 30 days.")


@pytest.fixture
def draft():
    return make_article(title="Refund for gift cards", body="Not refundable.", published=False)


READ_MATRIX = [
    ("anonymous", 401),
    ("agent", 200),
    ("supervisor", 200),
    ("qa", 200),
    ("crm", 200),
    ("admin", 200),
]
STAFF_WRITE_MATRIX = [
    ("anonymous", 401),
    ("agent", 201),
    ("supervisor", 201),
    ("qa", 201),
    ("crm", 403),
    ("admin", 201),
]
EDITOR_MATRIX = [
    ("anonymous", 401),
    ("agent", 403),
    ("supervisor", 200),
    ("qa", 403),
    ("crm", 403),
    ("admin", 200),
]


@pytest.mark.parametrize(("who", "status"), READ_MATRIX)
def test_article_list(cast, client_as, article, who, status):
    response = client_as(_users(cast)[who]).get(f"{BASE}/articles/")

    assert response.status_code == status
    if status == 200:
        assert [item["id"] for item in response.json()["results"]] == [article.pk]


@pytest.mark.parametrize(("who", "status"), READ_MATRIX)
def test_article_detail(cast, client_as, article, who, status):
    response = client_as(_users(cast)[who]).get(f"{BASE}/articles/{article.pk}/")

    assert response.status_code == status
    if status == 200:
        assert response.json()["body"] == "Refunds within 30 days."


@pytest.mark.parametrize(("who", "status"), READ_MATRIX)
def test_search(cast, client_as, article, who, status):
    response = client_as(_users(cast)[who]).get(f"{BASE}/search/", {"q": "refund"})

    assert response.status_code == status
    if status == 200:
        assert [hit["article"]["id"] for hit in response.json()["results"]] == [article.pk]


@pytest.mark.parametrize(
    ("who", "status"), [(who, 200 if status == 200 else status) for who, status in READ_MATRIX]
)
def test_suggest(cast, client_as, article, who, status):
    response = client_as(_users(cast)[who]).post(
        f"{BASE}/suggest/", {"ticket_subject": "refund"}, format="json"
    )

    assert response.status_code == status
    if status == 200:
        assert [hit["article"]["id"] for hit in response.json()["results"]] == [article.pk]


@pytest.mark.parametrize(("who", "status"), READ_MATRIX)
def test_category_list(cast, client_as, who, status):
    make_category("billing", "Billing")

    response = client_as(_users(cast)[who]).get(f"{BASE}/categories/")

    assert response.status_code == status
    if status == 200:
        assert [item["slug"] for item in response.json()] == ["billing"]


@pytest.mark.parametrize(("who", "status"), STAFF_WRITE_MATRIX)
def test_feedback(cast, client_as, article, who, status):
    response = client_as(_users(cast)[who]).post(
        f"{BASE}/articles/{article.pk}/feedback/", {"helpful": True}, format="json"
    )

    expected = 200 if status == 201 else status
    assert response.status_code == expected
    article.refresh_from_db()
    assert article.helpful_count == (1 if expected == 200 else 0)
    assert ArticleFeedback.objects.count() == (1 if expected == 200 else 0)


@pytest.mark.parametrize(("who", "status"), STAFF_WRITE_MATRIX)
def test_usage(cast, client_as, article, who, status):
    response = client_as(_users(cast)[who]).post(
        f"{BASE}/articles/{article.pk}/usage/", {"source": "suggestion"}, format="json"
    )

    assert response.status_code == status
    article.refresh_from_db()
    assert article.open_count == (1 if status == 201 else 0)
    assert ArticleUsage.objects.count() == (1 if status == 201 else 0)


@pytest.mark.parametrize(
    ("who", "status"), [(who, 201 if status == 200 else status) for who, status in EDITOR_MATRIX]
)
def test_create(cast, client_as, who, status):
    response = client_as(_users(cast)[who]).post(
        f"{BASE}/articles/",
        {"language": "en", "title": "Warranty", "body": "One year.", "visibility": "public"},
        format="json",
    )

    assert response.status_code == status
    assert Article.objects.filter(title="Warranty").count() == (1 if status == 201 else 0)


@pytest.mark.parametrize(("who", "status"), EDITOR_MATRIX)
def test_update(cast, client_as, article, who, status):
    response = client_as(_users(cast)[who]).patch(
        f"{BASE}/articles/{article.pk}/", {"title": "Refunds"}, format="json"
    )

    assert response.status_code == status
    article.refresh_from_db()
    assert (article.title, article.version) == (
        ("Refunds", 2) if status == 200 else ("Refund policy", 1)
    )


@pytest.mark.parametrize(("who", "status"), EDITOR_MATRIX)
def test_publish(cast, client_as, draft, who, status):
    response = client_as(_users(cast)[who]).post(f"{BASE}/articles/{draft.pk}/publish/")

    assert response.status_code == status
    draft.refresh_from_db()
    assert draft.status == ("published" if status == 200 else "draft")


@pytest.mark.parametrize(("who", "status"), EDITOR_MATRIX)
def test_unpublish(cast, client_as, article, who, status):
    response = client_as(_users(cast)[who]).post(f"{BASE}/articles/{article.pk}/unpublish/")

    assert response.status_code == status
    article.refresh_from_db()
    assert article.status == ("draft" if status == 200 else "published")


@pytest.mark.parametrize(("who", "status"), EDITOR_MATRIX)
def test_version_list(cast, client_as, article, who, status):
    response = client_as(_users(cast)[who]).get(f"{BASE}/articles/{article.pk}/versions/")

    assert response.status_code == status
    if status == 200:
        assert [version["number"] for version in response.json()["results"]] == [1]


@pytest.mark.parametrize(("who", "status"), EDITOR_MATRIX)
def test_restore(cast, client_as, article, who, status):
    client_as(cast.admin).patch(
        f"{BASE}/articles/{article.pk}/", {"title": "Refunds"}, format="json"
    )

    response = client_as(_users(cast)[who]).post(
        f"{BASE}/articles/{article.pk}/versions/1/restore/", {}, format="json"
    )

    assert response.status_code == status
    article.refresh_from_db()
    assert (article.title, article.version) == (
        ("Refund policy", 3) if status == 200 else ("Refunds", 2)
    )
    assert ArticleVersion.objects.filter(article=article).count() == (3 if status == 200 else 2)


@pytest.mark.parametrize("who", ["agent", "qa", "crm"])
def test_readers_who_may_not_edit_do_not_see_drafts(cast, client_as, draft, who):
    client = client_as(_users(cast)[who])

    assert client.get(f"{BASE}/articles/{draft.pk}/").status_code == 404
    assert client.get(f"{BASE}/articles/").json()["results"] == []


def test_api_clients_do_not_see_internal_articles(cast, client_as):
    internal = make_article(
        title="Refund approval limits", body="Up to 500 CNY.", visibility="internal"
    )
    client = client_as(cast.crm)

    assert client.get(f"{BASE}/articles/{internal.pk}/").status_code == 404
    assert (
        client.post(
            f"{BASE}/articles/{internal.pk}/usage/", {"source": "search"}, format="json"
        ).status_code
        == 403
    )
    assert client_as(cast.agent_a1.user).get(f"{BASE}/articles/{internal.pk}/").status_code == 200
