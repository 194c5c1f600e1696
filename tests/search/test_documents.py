"""Document types are validated when declared and registered once."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.search.documents import (
    DocumentType,
    PostgresStorage,
    TextField,
    check_filters,
    get_document_type,
    register_document_type,
)


def test_a_weight_outside_a_to_d_is_refused():
    with pytest.raises(ImproperlyConfigured):
        TextField("title", weight="E")


def test_the_language_filter_must_be_a_filter():
    with pytest.raises(ImproperlyConfigured):
        DocumentType(name="t.x", text_fields=(TextField("t", "A"),), filter_fields=("queue",))


def test_every_filter_needs_a_postgres_lookup():
    with pytest.raises(ImproperlyConfigured):
        DocumentType(
            name="t.x",
            text_fields=(TextField("t", "A"),),
            filter_fields=("language", "queue"),
            postgres=PostgresStorage(model="x.Y", filter_lookups={"language": "language"}),
        )


def test_registering_the_same_type_again_is_fine_but_a_different_one_is_refused():
    transcript = DocumentType(
        name="tests.transcript",
        text_fields=(TextField("text", "A"),),
        filter_fields=("language",),
    )
    register_document_type(transcript)
    register_document_type(transcript)

    with pytest.raises(ImproperlyConfigured):
        register_document_type(
            DocumentType(
                name="tests.transcript",
                text_fields=(TextField("text", "B"),),
                filter_fields=("language",),
            )
        )
    assert get_document_type("tests.transcript") is transcript


def test_an_unknown_type_or_filter_is_a_programming_error():
    with pytest.raises(ImproperlyConfigured):
        get_document_type("tests.nothing")
    with pytest.raises(ValueError, match="queue"):
        check_filters(get_document_type("knowledge.article"), {"queue": "sales"})
