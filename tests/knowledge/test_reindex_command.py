"""knowledge_reindex rebuilds the index of every article."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.knowledge.models import Article
from apps.knowledge.selectors import article_search
from tests.knowledge.helpers import make_article

pytestmark = pytest.mark.django_db


def test_reindex_writes_every_article_again(cast):
    make_article(title="Refund policy", body="Thirty days.")
    make_article(title="退款政策", body="三十天内。", language="zh-hans")
    Article.objects.update(search_vector=None)
    out = StringIO()

    call_command("knowledge_reindex", stdout=out)

    assert out.getvalue() == "indexed 2 articles with the postgres backend\n"
    assert [hit.article.title for hit in article_search(actor=cast.admin, query="退款")] == [
        "退款政策"
    ]
    assert not Article.objects.filter(search_vector=None).exists()
