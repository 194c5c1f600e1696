"""Text analysis shared by the search backends: Chinese segmentation with jieba, query terms.

PostgreSQL's parser (and Elasticsearch's standard tokenizer) see a run of Chinese characters as one
word, or as single characters; neither finds 退款 inside 我们的退款政策. So every run of CJK
characters is segmented with jieba into space-separated words before it reaches the index or
the query, and the rest of the text (Latin words, numbers, e-mail addresses) is left for the
engine's own parser, exactly as it parses documents.

jieba loads a 20 MB dictionary (about 1 s): it is loaded lazily, once per process, behind a lock;
`warm_up()` loads it ahead of the first request.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    import jieba

# CJK Unified Ideographs with extension A, compatibility ideographs and extensions B-F.
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]+")
_WORD_CHAR = re.compile(r"\w")

# Function words that carry no meaning for retrieval; removed at index and at query time so a
# question like 我想申请退款怎么办 asks for 申请 and 退款 only.
_STOP_WORDS_ZH_TEXT = """
    的 了 着 过 地 得 之 其 而 并 及 与 和 或 等 个 把 被 给 对 从 到 为 以 在 是 有
    就 都 也 还 又 再 很 更 最 该 已 已经 所 让 这 那 这个 那个 这些 那些 这里 那里
    我 我们 你 你们 您 他 她 它 他们 她们 它们 吗 呢 吧 啊 呀 哦 嗯 么 想 要 我想
    我要 想要 请 请问 一下 一个 怎么 怎么办 怎么样 如何 什么 为什么 哪 哪里 哪个
    可以 能 能否 会 可能 需要 非常
"""
STOP_WORDS_ZH = frozenset(_STOP_WORDS_ZH_TEXT.split())

DEFAULT_MAX_QUERY_TERMS = 64

_tokenizer: jieba.Tokenizer | None = None
_tokenizer_lock = threading.Lock()


def jieba_tokenizer() -> jieba.Tokenizer:
    """Return this process's jieba tokenizer, loading its dictionary on first use."""
    global _tokenizer  # noqa: PLW0603  (one tokenizer per process, built once)
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                # A private tokenizer: words added for search never leak into other jieba users.
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                user_dict = getattr(settings, "SEARCH_JIEBA_USER_DICT", None)
                if user_dict:
                    tokenizer.load_userdict(user_dict)
                _tokenizer = tokenizer
    return _tokenizer


def warm_up() -> None:
    """Load the segmentation dictionary now (call at process start, e.g. in a worker's init)."""
    jieba_tokenizer()


def contains_cjk(text: str) -> bool:
    """Return True when the text holds at least one Chinese character."""
    return _CJK_RUN.search(text) is not None


def _segment(text: str, *, for_query: bool) -> str:
    if not text or not contains_cjk(text):
        return text
    tokenizer = jieba_tokenizer()
    # Index with the search mode (words and the shorter words inside them, e.g. 专用发票 gives
    # 专用, 发票 and 专用发票) so that a precise-mode query word finds them either way.
    cut = tokenizer.cut if for_query else tokenizer.cut_for_search

    def replace(match: re.Match[str]) -> str:
        words = (word.strip() for word in cut(match.group(), HMM=True))
        return " " + " ".join(w for w in words if w and w not in STOP_WORDS_ZH) + " "

    # Only words matter to the index: line breaks, runs of spaces and lone punctuation go.
    chunks = _CJK_RUN.sub(replace, text).split()
    return " ".join(chunk for chunk in chunks if _WORD_CHAR.search(chunk))


def segment_for_index(text: str) -> str:
    """Return the text with its Chinese runs split into space-separated words (search mode)."""
    return _segment(text, for_query=False)


def segment_for_query(text: str) -> str:
    """Return the query with its Chinese runs split into space-separated words (precise mode)."""
    return _segment(text, for_query=True)


def query_terms(text: str, *, max_terms: int = DEFAULT_MAX_QUERY_TERMS) -> list[str]:
    """Return the distinct terms of a query, in order: segmented Chinese words and other chunks.

    Chunks without a letter or digit (punctuation) are dropped; the engine's parser handles the
    rest of each chunk (case, stemming, hyphens) as it does for documents.
    """
    terms: list[str] = []
    seen: set[str] = set()
    for chunk in segment_for_query(text).split():
        key = chunk.lower()
        if key in seen or not _WORD_CHAR.search(chunk):
            continue
        seen.add(key)
        terms.append(chunk)
        if len(terms) >= max_terms:
            break
    return terms


@dataclass(frozen=True)
class LanguageAnalysis:
    """How one language is analysed by each backend."""

    pg_config: str  # PostgreSQL text-search configuration
    es_suffix: str  # suffix of the Elasticsearch field holding text in this language


ENGLISH = LanguageAnalysis(pg_config="english", es_suffix="en")
CHINESE = LanguageAnalysis(pg_config="simple", es_suffix="zh")
# Languages without a stemmer here: lower-cased words only.
OTHER = LanguageAnalysis(pg_config="simple", es_suffix="std")


def language_analysis(language: str | None) -> LanguageAnalysis:
    """Return the analysis of a language code ("en", "zh-hans", ...)."""
    code = (language or "").lower()
    if code == "en" or code.startswith("en-"):
        return ENGLISH
    if code == "zh" or code.startswith("zh-"):
        return CHINESE
    return OTHER


def site_analyses() -> list[LanguageAnalysis]:
    """Return the distinct analyses of the site's languages (settings.LANGUAGES), in order."""
    analyses: list[LanguageAnalysis] = []
    for code, _name in settings.LANGUAGES:
        analysis = language_analysis(code)
        if analysis not in analyses:
            analyses.append(analysis)
    return analyses
