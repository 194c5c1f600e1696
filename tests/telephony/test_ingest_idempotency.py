"""Handling is idempotent and ordered per call: duplicates change nothing, late ones undo none."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from apps.telephony import listener
from apps.telephony.models import Call, CallLeg, CallRecording, Cdr
from tests.telephony.conftest import captured_events

pytestmark = pytest.mark.django_db

B_LEG = "ec6123a0-8cf0-4f1f-94e9-a836d7519a08"


def _snapshot() -> dict[str, list[dict]]:
    def rows(model) -> list[dict]:
        # Row ids differ between runs; which call or leg a row belongs to is kept as its uuid.
        result = []
        for obj in model.objects.all():
            row = model_to_dict(obj, exclude=["id", "call", "leg"])
            if hasattr(obj, "call"):
                row["call"] = obj.call.uuid
            if hasattr(obj, "leg"):
                row["leg"] = obj.leg.uuid
            result.append(row)
        return sorted(result, key=repr)

    return {
        "calls": rows(Call),
        "legs": rows(CallLeg),
        "cdrs": rows(Cdr),
        "recordings": rows(CallRecording),
    }


def _by_name(events, name: str, uuid: str):
    return next(e for e in events if e.name == name and e.headers.get("Unique-ID") == uuid)


def test_the_same_stream_twice_changes_nothing_and_announces_nothing_new(node, replay, published):
    # Given the d1 call fully ingested
    replay("d1_bridge_plain", node)
    before = _snapshot()
    announced = len(published.events)

    # When every event arrives a second time (a reconnect replaying, a duplicate delivery)
    replay("d1_bridge_plain", node)

    # Then no row changed and nothing more was announced
    assert _snapshot() == before
    assert len(published.events) == announced


def test_each_event_delivered_twice_in_a_row_gives_the_same_records_as_once(node, replay):
    from apps.telephony.models import FreeswitchNode

    events = captured_events("c1_ivr_call_plain")
    replay("", node, events=events)
    once = _snapshot()
    Call.objects.all().delete()

    doubled = [event for event in events for _ in range(2)]
    replay("", node, events=doubled)

    assert _snapshot() == once
    assert FreeswitchNode.objects.count() == 1


def test_an_unhold_that_overtakes_its_hold_leaves_the_leg_unheld(node, replay, published):
    # Given the d1 events up to the bridge, then CHANNEL_UNHOLD (968) before CHANNEL_HOLD (959)
    events = captured_events("d1_bridge_plain")
    hold = _by_name(events, "CHANNEL_HOLD", B_LEG)
    unhold = _by_name(events, "CHANNEL_UNHOLD", B_LEG)
    prefix = events[: events.index(hold)]
    replay("", node, events=[*prefix, unhold, hold])

    # Then the older hold does not undo the newer unhold
    leg = CallLeg.objects.get(uuid=B_LEG)
    assert leg.is_held is False
    assert leg.hold_sequence == 968
    assert published.kinds().count("call.held") == 0


def test_a_batch_applies_events_in_sequence_order_whatever_the_arrival_order(node):
    # Given the whole d1 stream delivered in reverse order in one batch
    events = captured_events("d1_bridge_plain")

    listener.process_batch(list(reversed(events)), node=node)

    # Then the records are those of the stream in order
    call = Call.objects.get()
    assert call.state == "ended"
    assert sorted(Cdr.objects.values_list("billsec", flat=True)) == [4, 7]
    assert CallLeg.objects.get(uuid=B_LEG).is_held is False


def test_a_batch_and_one_event_at_a_time_give_the_same_records(node, replay):
    from apps.telephony.models import FreeswitchNode

    events = captured_events("k1_record_mask_plain")
    replay("", node, events=events)
    one_by_one = _snapshot()
    Call.objects.all().delete()

    listener.process_batch(events, node=node)

    assert _snapshot() == one_by_one
    assert FreeswitchNode.objects.count() == 1


def test_a_late_answer_after_the_hangup_keeps_the_leg_ended(node, replay):
    # Given the B leg's CHANNEL_ANSWER held back until after its CHANNEL_HANGUP_COMPLETE
    events = captured_events("d1_bridge_plain")
    answer = _by_name(events, "CHANNEL_ANSWER", B_LEG)
    reordered = [event for event in events if event is not answer] + [answer]
    replay("", node, events=reordered)

    # Then the leg stays ended, and the answer time (a fact) is still recorded
    leg = CallLeg.objects.get(uuid=B_LEG)
    assert leg.state == "ended"
    assert leg.answered_at is not None
    assert leg.hangup_cause == "NORMAL_CLEARING"


@pytest.mark.parametrize("size", [1, 7, 40])
@pytest.mark.parametrize("capture", ["d1_bridge_plain", "i1_api_driven_call_plain"])
def test_batches_sharing_the_leg_cache_give_the_same_records(node, replay, capture, size):
    # Given the records of a stream handled one event at a time
    from apps.telephony.ledger import LegCache

    events = captured_events(capture)
    replay("", node, events=events)
    expected = _snapshot()
    Call.objects.all().delete()

    # When the event process writes it in batches, keeping live legs cached between them
    cache = LegCache()
    for start in range(0, len(events), size):
        listener.process_batch(events[start : start + size], node=node, cache=cache)
        cache.forget_ended(now=0.0)

    # Then the records are the same
    assert _snapshot() == expected
