"""bgapi: immediate Job-UUID acknowledgement, result in BACKGROUND_JOB (b2 capture)."""

from __future__ import annotations

import re

from .helpers import capture_events


def _job(client, job_uuid):
    return client.wait_event(lambda e: e.name == "BACKGROUND_JOB" and e.get("Job-UUID") == job_uuid)


def test_bgapi_is_acknowledged_with_a_generated_job_uuid(events_client):
    events_client.send("bgapi status")
    reply = events_client.reply()
    job_uuid = reply.headers["Job-UUID"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", job_uuid)
    assert (
        reply.raw
        == (
            "Content-Type: command/reply\n"
            f"Reply-Text: +OK Job-UUID: {job_uuid}\nJob-UUID: {job_uuid}\n\n"
        ).encode()
    )
    job = _job(events_client, job_uuid)
    assert job.body.startswith("UP 0 years")
    assert job.get("Job-Command") == "status"
    # Job-Command-Arg is absent when the command had no arguments (b2)
    assert "Job-Command-Arg" not in job.names


def test_client_chosen_job_uuid_is_honoured(events_client):
    events_client.send("bgapi status\nJob-UUID: fx-job-plain-0002")
    assert events_client.reply().headers["Reply-Text"] == "+OK Job-UUID: fx-job-plain-0002"
    assert _job(events_client, "fx-job-plain-0002").get("Job-Command") == "status"


def test_background_job_event_has_the_captured_header_layout(events_client):
    events_client.send("bgapi originate user/1005 &park")
    job_uuid = events_client.reply().headers["Job-UUID"]
    job = _job(events_client, job_uuid)
    captured = next(e for e in capture_events("b2_bgapi_originate_plain.raw"))
    assert job.names == captured.names
    assert job.get("Job-Command-Arg") == "user/1005 &park"
    assert job.get("Event-Calling-Function") == "api_exec"


def test_originate_failures_arrive_only_in_the_job_body(events_client):
    # given dial strings that reach nobody (b2 capture's failures)
    cases = {
        "originate user/1005 &park": "-ERR USER_NOT_REGISTERED\n",
        "originate user/9999999 &park": "-ERR SUBSCRIBER_ABSENT\n",
        "originate bogus/endpoint &park": "-ERR CHAN_NOT_IMPLEMENTED\n",
        "originate": (
            "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] "
            "[<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n"
        ),
    }
    for command, expected in cases.items():
        # when each is sent as bgapi
        events_client.send(f"bgapi {command}")
        reply = events_client.reply()
        # then the acknowledgement is +OK and the failure is the job body
        assert reply.headers["Reply-Text"].startswith("+OK Job-UUID: ")
        assert _job(events_client, reply.headers["Job-UUID"]).body == expected


def test_unknown_bgapi_command_reports_command_not_found(events_client):
    events_client.send("bgapi no_such_command foo")
    job_uuid = events_client.reply().headers["Job-UUID"]
    assert _job(events_client, job_uuid).body == "-ERR no_such_command Command not found!\n"


def test_every_api_and_bgapi_fires_an_api_event(events_client):
    events_client.send("api uuid_exists nope")
    events_client.reply()
    api_event = events_client.wait_event(lambda e: e.name == "API")
    assert api_event.get("API-Command") == "uuid_exists"
    assert api_event.get("API-Command-Argument") == "nope"
    events_client.send("bgapi hostname")
    events_client.reply()
    bg_event = events_client.wait_event(lambda e: e.name == "API")
    assert bg_event.get("API-Command") == "hostname"
    assert "API-Command-Argument" not in bg_event.names


def test_api_events_can_be_delivered_late_like_freeswitch():
    from apps.telephony.simulator import running_simulator

    from .helpers import RawClient

    # given a simulator that reproduces FreeSWITCH's late API events
    with running_simulator(port=0, heartbeat_interval=0, late_api_events=True) as server:
        uuid = server.place_inbound_call(caller="5551000", destination="4001")
        client = RawClient(server.port)
        client.login()
        client.command("event plain ALL")
        # when a command causing events runs
        client.send(f"api uuid_kill {uuid}")
        client.reply()
        api_event = client.wait_event(lambda e: e.name == "API")
        hangup = next(e for e in client.events() if e.name == "CHANNEL_HANGUP")
        # then the API event arrives after them but carries an older Event-Sequence
        assert api_event.sequence < hangup.sequence
        client.close()
