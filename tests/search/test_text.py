"""Chinese segmentation and query terms, shared by both backends."""

from __future__ import annotations

import pytest

from apps.search import text
from apps.search.text import (
    CHINESE,
    ENGLISH,
    OTHER,
    contains_cjk,
    language_analysis,
    query_terms,
    segment_for_index,
    segment_for_query,
)


def test_index_segmentation_keeps_compound_words_and_their_parts():
    assert segment_for_index("如何开具增值税专用发票") == "开具 增值 增值税 专用 发票 专用发票"


def test_query_segmentation_keeps_the_precise_words():
    assert segment_for_query("如何开具增值税专用发票") == "开具 增值税 专用发票"


def test_latin_text_and_numbers_are_left_to_the_engine():
    assert segment_for_index("iPhone 15的退款: refunds, e-mail 15.5") == (
        "iPhone 15 退款 refunds, e-mail 15.5"
    )
    assert segment_for_index("Refunds within 30 days.") == "Refunds within 30 days."


def test_function_words_and_lone_punctuation_are_dropped():
    assert query_terms("我想申请退款，怎么办？") == ["申请", "退款"]


def test_query_terms_are_distinct_and_capped():
    assert query_terms("Refund refund REFUND invoice") == ["Refund", "invoice"]
    assert query_terms(" ".join(f"w{n}" for n in range(100)), max_terms=3) == ["w0", "w1", "w2"]


@pytest.mark.parametrize("query", ["", "   ", "？！，。", "- / ."])
def test_a_query_without_words_has_no_terms(query):
    assert query_terms(query) == []


def test_cjk_detection():
    assert contains_cjk("iPhone 退款")
    assert not contains_cjk("Refund ，。")


@pytest.mark.parametrize(
    ("language", "analysis"),
    [
        ("en", ENGLISH),
        ("en-gb", ENGLISH),
        ("zh-hans", CHINESE),
        ("zh", CHINESE),
        ("fr", OTHER),
        (None, OTHER),
    ],
)
def test_language_analysis(language, analysis):
    assert language_analysis(language) == analysis


def test_the_dictionary_is_loaded_once_per_process():
    text.warm_up()
    first = text.jieba_tokenizer()

    segment_for_query("退款")

    assert text.jieba_tokenizer() is first
    assert first.initialized
