#!/usr/bin/env python
"""Knowledge-base search latency on PostgreSQL over 10,000+ articles: p50/p95/p99 per query kind.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cc_kb_bench \\
        .venv/bin/python bench/kb_search.py [--articles 10000] [--queries 300]

Creates the database if it is missing, migrates it and fills it once with synthetic articles (half
Chinese, half English, Zipf-distributed words: Chinese from jieba's dictionary, English from a
domain list plus generated words); reruns reuse the data. Timings are end to end through the
selectors an API view calls (search, visibility scoping, re-ranking, loading the articles), from
one process on this machine; the jieba dictionary is loaded before timing.

"typical" queries draw a word uniformly from the vocabulary (what a searcher types: a specific
word); "common" ones draw from the 50 commonest words, which appear in a large share of the
articles: PostgreSQL ranks every matching row (ts_rank_cd has no index), so that is the worst case.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcenter.settings.dev")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cc_kb_bench")
os.environ.setdefault("SEARCH_BACKEND", "postgres")

import dj_database_url  # noqa: E402
import django  # noqa: E402
import psycopg  # noqa: E402

_ENGLISH_TEXT = (
    "refund return invoice receipt delivery parcel courier tracking address payment card "
    "transfer warranty repair replacement defect membership points discount coupon order "
    "cancel cancellation exchange size colour stock price promotion subscription renewal "
    "account password login verification phone email complaint escalation supervisor "
    "approval limit policy deadline business days holiday shipping express fee tax vat "
    "company number bank instalment credit debit wallet alipay wechat unionpay app website "
    "store pickup locker damaged lost missing late early schedule appointment technician "
    "installation manual battery charger screen software update reset backup privacy data"
)
ENGLISH_WORDS = _ENGLISH_TEXT.split()
_SYLLABLES_TEXT = "ka lo mi ne ra so tu vi ze ba co di fe gu hi jo"
SYLLABLES = _SYLLABLES_TEXT.split()


def ensure_database(url: str) -> None:
    """Create the benchmark database if it does not exist."""
    config = dj_database_url.parse(url)
    with psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{config["NAME"]}"')


def chinese_vocabulary(size: int) -> list[str]:
    """Return the most frequent 2-4 character Chinese words of jieba's dictionary."""
    import jieba

    words: list[tuple[int, str]] = []
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as handle:
        for line in handle:
            word, frequency, *_ = line.split()
            if 2 <= len(word) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in word):
                words.append((int(frequency), word))
    words.sort(reverse=True)
    # Skip the very commonest (function words the search drops anyway).
    return [word for _, word in words[50 : 50 + size]]


def english_vocabulary(size: int, rng: random.Random) -> list[str]:
    generated = {
        "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(size * 2)
    }
    return ENGLISH_WORDS + sorted(generated)[: size - len(ENGLISH_WORDS)]


class ZipfWords:
    """Draw words with probability proportional to 1 / (rank + 10)."""

    def __init__(self, words: list[str], rng: random.Random) -> None:
        self.words = words
        self.weights = [1 / (rank + 10) for rank in range(len(words))]
        self.rng = rng

    def draw(self, count: int) -> list[str]:
        return self.rng.choices(self.words, weights=self.weights, k=count)

    def typical(self) -> str:
        """Return a word a searcher would type: any word of the vocabulary, equally likely."""
        return self.rng.choice(self.words)

    def common(self) -> str:
        """Return one of the 50 commonest words (each in a large share of the articles)."""
        return self.rng.choice(self.words[:50])


def fill(target: int, rng: random.Random, zh: ZipfWords, en: ZipfWords) -> None:
    """Add synthetic published articles until there are `target`, then index them."""
    from apps.knowledge.models import Article, ArticleGroup, Category, Visibility
    from apps.knowledge.search import article_search_document
    from apps.search import get_search_backend

    existing = Article.objects.count()
    if existing >= target:
        print(f"data: {existing} articles already there")
        return
    categories = [
        Category.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]
        for slug in ("sales", "after-sales", "billing")
    ]
    start = ArticleGroup.objects.count()
    new = target - existing
    groups = ArticleGroup.objects.bulk_create(
        ArticleGroup(
            key=f"bench-{start + n}",
            category=rng.choice(categories),
            visibility=Visibility.PUBLIC if rng.random() < 0.8 else Visibility.INTERNAL,
        )
        for n in range(new)
    )
    articles = []
    for group in groups:
        chinese = rng.random() < 0.5
        words = zh if chinese else en
        joiner = "" if chinese else " "
        body = "。".join(
            joiner.join(words.draw(rng.randint(8, 16))) for _ in range(rng.randint(6, 12))
        )
        articles.append(
            Article(
                group=group,
                language="zh-hans" if chinese else "en",
                title=joiner.join(words.draw(rng.randint(2, 5))),
                summary=joiner.join(words.draw(rng.randint(6, 12))),
                body=body,
                tags=words.draw(rng.randint(2, 4)),
                status=Article.Status.PUBLISHED,
                version=1,
            )
        )
    created = Article.objects.bulk_create(articles, batch_size=1000)
    backend = get_search_backend()
    started = time.perf_counter()
    for offset in range(0, len(created), 500):
        batch = Article.objects.select_related("group", "group__category").filter(
            pk__in=[article.pk for article in created[offset : offset + 500]]
        )
        backend.index_many(article_search_document(article) for article in batch)
    elapsed = time.perf_counter() - started
    print(
        f"data: {new} articles created and indexed in {elapsed:.1f} s "
        f"({new / elapsed:.0f} articles/s, segmentation included)"
    )


def bench_actor():
    from apps.accounts.models import User
    from apps.accounts.services import user_create
    from apps.rbac import roles
    from apps.rbac.services import roles_setup

    roles_setup()
    user = User.objects.filter(username="kb_bench_agent").first()
    return user or user_create(username="kb_bench_agent", password=None, role=roles.AGENT)


def matching(query: str, language: str | None) -> int:
    """Return how many articles match every term (not timed)."""
    from apps.knowledge.models import Article
    from apps.search import Match
    from apps.search.backends.postgres import build_tsquery
    from apps.search.text import query_terms

    terms = query_terms(query)
    if not terms:
        return 0
    tsquery = build_tsquery(terms, language=language, match=Match.ALL)
    return Article.objects.filter(search_vector=tsquery).count()


def measure(name: str, queries: list[tuple[Callable[[], list], int | None]]) -> None:
    """Time each query; print latency quantiles, hits returned and articles matched."""
    timings, hits, matches = [], [], []
    for run, matched in queries:
        started = time.perf_counter()
        result = run()
        timings.append((time.perf_counter() - started) * 1000)
        hits.append(len(result))
        if matched is not None:
            matches.append(matched)
    timings.sort()
    quantiles = statistics.quantiles(timings, n=100, method="inclusive")
    matched_text = f"  matched p50={statistics.median(matches):5.0f}" if matches else ""
    print(
        f"{name:<36} n={len(timings):<4} p50={quantiles[49]:6.1f} ms  p95={quantiles[94]:6.1f} ms"
        f"  p99={quantiles[98]:6.1f} ms  max={timings[-1]:6.1f} ms"
        f"  hits={statistics.mean(hits):4.1f}{matched_text}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as they come, even in a file
    ensure_database(os.environ["DATABASE_URL"])
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)

    from apps.knowledge.models import Article
    from apps.knowledge.search import ARTICLE_DOC_TYPE
    from apps.knowledge.selectors import SuggestionContext, article_search, article_suggest
    from apps.search import get_search_backend, warm_up

    rng = random.Random(20240601)
    warm_up()
    zh = ZipfWords(chinese_vocabulary(5000), rng)
    en = ZipfWords(english_vocabulary(3000, rng), rng)
    fill(args.articles, rng, zh, en)
    # What autovacuum does after a bulk load: planner statistics and a clean visibility map.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE knowledge_article")
    actor = bench_actor()
    total = Article.objects.count()
    chinese = Article.objects.filter(language="zh-hans").count()
    print(f"load average before: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    print(
        f"corpus: {total} articles ({chinese} Chinese, {total - chinese} English), "
        f"SEARCH_BACKEND=postgres, {args.queries} queries per line"
    )

    n = args.queries
    backend = get_search_backend()
    for word in zh.draw(20) + en.draw(20):  # warm the connection and caches
        article_search(actor=actor, query=word)

    def search(query: str, language: str | None) -> tuple[Callable[[], list], int]:
        def run() -> list:
            return article_search(actor=actor, query=query, language=language, limit=10)

        return run, matching(query, language)

    measure("search zh, typical word", [search(zh.typical(), "zh-hans") for _ in range(n)])
    titles = list(
        Article.objects.filter(language="zh-hans").order_by("?").values_list("title", flat=True)[:n]
    )
    measure("search zh, a title as typed", [search(title, "zh-hans") for title in titles])
    measure(
        "search en, typical word (plural)", [search(en.typical() + "s", "en") for _ in range(n)]
    )
    measure(
        "search, no language, typical word",
        [search(rng.choice([zh, en]).typical(), None) for _ in range(n)],
    )
    measure(
        "search zh, common word (worst case)", [search(zh.common(), "zh-hans") for _ in range(n)]
    )
    measure("search en, common word (worst case)", [search(en.common(), "en") for _ in range(n)])

    def backend_only(query: str) -> tuple[Callable[[], list], int]:
        def run() -> list:
            return backend.search(
                ARTICLE_DOC_TYPE,
                query,
                filters={"status": "published"},
                language="zh-hans",
                limit=40,
            )

        return run, matching(query, "zh-hans")

    measure("backend only zh, typical, top 40", [backend_only(zh.typical()) for _ in range(n)])

    def suggest(common_words: int) -> tuple[Callable[[], list], None]:
        words = zh if rng.random() < 0.5 else en
        context = SuggestionContext(
            ivr_path=[words.typical(), words.typical()],
            queue_name=words.typical(),
            skills=[words.typical()],
            language="zh-hans" if words is zh else "en",
            ticket_subject=" ".join(
                [words.typical() for _ in range(4 - common_words)]
                + [words.common() for _ in range(common_words)]
            ),
        )

        def run() -> list:
            return article_suggest(actor=actor, context=context, limit=5)

        return run, None

    measure("suggest, 8 typical context words", [suggest(0) for _ in range(n)])
    measure("suggest, 2 of them common (worst)", [suggest(2) for _ in range(n)])
    print(f"load average after: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
