"""The event process's bulk helpers and process set-up."""

from __future__ import annotations

import gc

import pytest

from apps.telephony import bulk, event_process
from apps.telephony.models import Call, FreeswitchNode

pytestmark = pytest.mark.django_db


def _call(node: FreeswitchNode, uuid: str) -> Call:
    return Call.objects.create(node=node, uuid=uuid, started_at="2026-01-01T00:00:00Z")


def test_any_of_selects_the_rows_in_the_list_as_in_does(node):
    # Given three calls, one of which has a uuid that needs quoting in an array literal
    for uuid in ("a-1", "b-2", 'c,"3"}'):
        _call(node, uuid)
    wanted = ["a-1", 'c,"3"}', "absent"]

    # When they are selected with any_of and with __in
    with_any_of = set(Call.objects.filter(bulk.any_of("uuid", wanted)).values_list("uuid"))
    with_in = set(Call.objects.filter(uuid__in=wanted).values_list("uuid"))

    # Then both give the same rows, and an empty list gives none
    assert with_any_of == with_in == {("a-1",), ('c,"3"}',)}
    assert not Call.objects.filter(bulk.any_of("uuid", [])).exists()


def test_any_of_sends_the_list_as_one_parameter():
    # Given many wanted uuids
    wanted = [f"uuid-{number}" for number in range(500)]

    # When they are looked up
    query = str(Call.objects.filter(bulk.any_of("uuid", wanted)).query)

    # Then the SQL names the column once, with one array, not one placeholder per value
    assert '"telephony_call"."uuid" = ANY(' in query
    assert " IN (" not in query


@pytest.fixture
def restored_gc():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_tune_gc_freezes_what_is_loaded_and_spaces_out_collections(restored_gc):
    # Given the interpreter's default collector settings
    gc.unfreeze()

    # When the event process tunes the collector
    event_process.tune_gc()

    # Then start-up objects are out of the collector's way and passes are rarer
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == event_process.GC_THRESHOLDS
    assert event_process.GC_THRESHOLDS[0] > 10 * 700
