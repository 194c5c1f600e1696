"""With Elasticsearch, article writes reach the index through a Celery task after commit."""

from __future__ import annotations

import pytest

from apps.core.errors import InvalidInput
from apps.knowledge import tasks
from apps.knowledge.models import Article
from apps.knowledge.services import article_index_now, article_update
from apps.search import SearchUnavailable, get_search_backend
from tests.knowledge.helpers import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(
        tasks.article_index, "apply_async", lambda args, kwargs: calls.append((args, kwargs))
    )
    return calls


def test_an_update_enqueues_the_index_task_only_after_commit(
    settings, sent, django_capture_on_commit_callbacks
):
    article = make_article(title="Warranty", body="One year.")
    settings.SEARCH_BACKEND = "elasticsearch"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        article_update(actor=None, article=article, body="Two years.")
        assert sent == []

    for callback in callbacks:
        callback()
    assert sent == [((article.pk,), {})]


def test_a_refused_update_enqueues_nothing(settings, sent, django_capture_on_commit_callbacks):
    article = make_article(title="Warranty", body="One year.")
    settings.SEARCH_BACKEND = "elasticsearch"

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InvalidInput):
        article_update(actor=None, article=article, tags=[f"tag{n}" for n in range(21)])

    assert sent == []
    article.refresh_from_db()
    assert article.tags == []


def test_deleting_in_the_admin_removes_every_language_from_the_index_after_commit(
    cast, client, settings, sent, django_capture_on_commit_callbacks
):
    english = make_article(title="Warranty", body="One year.")
    chinese = make_article(title="保修", body="一年。", language="zh-hans", group=english.group)
    settings.SEARCH_BACKEND = "elasticsearch"
    client.force_login(cast.admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/knowledge/articlegroup/{english.group.pk}/delete/", {"post": "yes"}
        )

    assert response.status_code == 302
    assert not Article.objects.filter(pk__in=[english.pk, chinese.pk]).exists()
    assert sorted(sent) == sorted([((english.pk,), {}), ((chinese.pk,), {})])


def test_the_task_removes_a_deleted_article_from_the_index(settings, monkeypatch):
    settings.SEARCH_BACKEND = "elasticsearch"
    deleted = []
    backend = get_search_backend()
    monkeypatch.setattr(
        backend, "delete", lambda doc_type, doc_id: deleted.append((doc_type, doc_id))
    )

    tasks.article_index(424242)

    assert deleted == [("knowledge.article", "424242")]


def test_the_task_reports_an_unreachable_engine_as_retryable(settings):
    article = make_article(title="Warranty", body="One year.")
    settings.SEARCH_BACKEND = "elasticsearch"
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"
    from apps.search import _backends

    _backends.pop("elasticsearch", None)
    try:
        with pytest.raises(SearchUnavailable):
            article_index_now(article_id=article.pk)
    finally:
        _backends.pop("elasticsearch", None)
    assert SearchUnavailable in tasks.article_index.autoretry_for
    assert Article.objects.filter(pk=article.pk).exists()
