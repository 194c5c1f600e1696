"""The simulator's httapi step runs the suite's IVR over real HTTP, the way FreeSWITCH does:
a demo call chooses English then billing, is parked with the IVR's channel variables, and the
path is recorded; a caller who hangs up in the menu is recorded as abandoned."""

from __future__ import annotations

import time

import pytest

from apps.ivr import demo
from apps.ivr.models import IvrPath
from apps.telephony.simulator import Answer, Park, running_simulator
from apps.telephony.simulator.httapi import Httapi
from tests.ivr.conftest import FS_PASSWORD, FS_USER, load_capture, repo_profile
from tests.telephony.simulator.helpers import RawClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sim_events():
    with running_simulator(port=0, heartbeat_interval=0, playback_seconds=0.01) as server:
        client = RawClient(server.port)
        client.login()
        assert client.command("event plain ALL") == "+OK event listener enabled plain"
        yield server, client
        client.close()


class RecordingHttapi(Httapi):
    """The step, keeping what it sent."""

    sent: list = []

    def fetch(self, request):
        RecordingHttapi.sent.append(request)
        return super().fetch(request)


def _route(server, live_server) -> None:
    RecordingHttapi.sent = []
    server.set_route(
        demo.DEMO_DID,
        [
            Answer(),
            RecordingHttapi(
                "{url=${suite_base_url}/freeswitch/httapi/}",
                variables={"suite_base_url": live_server.url},
                profile=repo_profile(),
                username=FS_USER,
                password=FS_PASSWORD,
            ),
            Park(),
        ],
    )


def test_a_simulated_call_goes_through_the_demo_ivr_before_it_queues(live_server, sim_events):
    server, events = sim_events
    demo.seed()
    _route(server, live_server)

    uuid = server.place_inbound_call(
        caller="+8613800138000", destination=demo.DEMO_DID, digits="23"
    )
    park = events.wait_event(lambda e: e.name == "CHANNEL_PARK" and e.get("Unique-ID") == uuid)

    assert (park.get("variable_cc_queue"), park.get("variable_cc_language")) == ("billing", "en")
    path = IvrPath.objects.get(call_uuid=uuid)
    assert park.get("variable_cc_ivr_path") == str(path.pk)
    executed = [
        e.get("Application")
        for e in events.log
        if e.name == "CHANNEL_EXECUTE" and e.get("Unique-ID") == uuid
    ]
    assert executed == ["answer", "httapi", "park"]
    assert [e.get("DTMF-Digit") for e in events.log if e.name == "DTMF"] == ["2", "3"]
    deadline = time.monotonic() + 5
    while IvrPath.objects.get(pk=path.pk).outcome != "queued" and time.monotonic() < deadline:
        time.sleep(0.02)
    path.refresh_from_db()
    assert (path.outcome, path.queue, path.last_node) == ("queued", "billing", "q-billing")
    # The requests had FreeSWITCH's fields: the captured first request's, in the same order
    captured = [name for name, _value in load_capture("1_ivr_post")[0]["fields"]]
    first, second = RecordingHttapi.sent[0].fields, RecordingHttapi.sent[1].fields
    assert [name for name, _value in first] == [n for n in captured if n != "httapi_profile"]
    assert dict(first)["Caller-Destination-Number"] == demo.DEMO_DID
    assert dict(second)["cc_input"] == "2"
    assert RecordingHttapi.sent[-1].field_map["exiting"] == "true"


def test_a_caller_who_hangs_up_in_the_menu_is_recorded_as_abandoned(live_server, sim_events):
    server, events = sim_events
    demo.seed()
    _route(server, live_server)

    uuid = server.place_inbound_call(
        caller="5551000", destination=demo.DEMO_DID, digits="", patience=0.3
    )
    events.wait_event(lambda e: e.name == "CHANNEL_DESTROY" and e.get("Unique-ID") == uuid)

    deadline = time.monotonic() + 5
    while IvrPath.objects.get(call_uuid=uuid).outcome != "abandoned":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert IvrPath.objects.get(call_uuid=uuid).last_node == "start"
