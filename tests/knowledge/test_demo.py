"""The demo knowledge base: bilingual, published, searchable, seeded once."""

from __future__ import annotations

import pytest

from apps.knowledge import demo
from apps.knowledge.models import Article, ArticleGroup, Category
from apps.knowledge.selectors import article_search

pytestmark = pytest.mark.django_db


def test_seeding_twice_creates_the_demo_articles_once(cast):
    first = demo.seed()
    second = demo.seed()

    assert first == ["  knowledge base: 20 articles (20 new) in 10 topics"]
    assert second == ["  knowledge base: 20 articles (0 new) in 10 topics"]
    assert Category.objects.count() == 3
    assert ArticleGroup.objects.count() == 10
    assert set(Article.objects.values_list("status", flat=True)) == {"published"}
    for group in ArticleGroup.objects.all():
        assert sorted(group.variants.values_list("language", flat=True)) == ["en", "zh-hans"]


def test_the_demo_articles_are_searchable_in_both_languages(cast):
    demo.seed()

    def titles(query, language):
        hits = article_search(actor=cast.agent_a1.user, query=query, language=language)
        return [hit.article.title for hit in hits]

    assert titles("退款政策", "zh-hans") == ["退款政策"]
    # The payment article matches through its category, 账单与发票, and ranks last.
    assert titles("发票", "zh-hans") == ["如何开具发票", "发票信息有误如何重开", "支付方式"]
    assert titles("物流", "zh-hans") == [
        "包裹丢失或破损：转物流部门处理（内部）",
        "物流配送时效与查询",
    ]
    assert titles("invoices", "en") == [
        "Requesting an invoice",
        "Correcting or reissuing an invoice",
    ]
