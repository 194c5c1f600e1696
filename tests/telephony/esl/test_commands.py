"""FreeSwitchClient renders the exact commands of the captures and types their replies."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from apps.telephony.esl import (
    CommandError,
    ConsultCall,
    EavesdropMode,
    ESLConnection,
    FreeSwitchClient,
    HoldAction,
    NoSuchChannel,
    RecordAction,
    TemporaryFailure,
    TransferLeg,
    UsageError,
    UserNotRegistered,
    render_channel_variables,
)
from tests.telephony.esl.conftest import fast_config
from tests.telephony.esl.fakes import FakeFreeSwitch, FakeSession, TranscriptServer, load_transcript

Factory = Callable[..., ESLConnection]


def _replayed_client(replay, connections: Factory, name: str, **kwargs: object):
    transcript = load_transcript(name)
    server: TranscriptServer = replay(transcript)
    job_ids = iter(
        job.decode() for job in re.findall(rb"Reply-Text: \+OK Job-UUID: (\S+)", transcript.raw)
    )
    subscription = re.search(rb"(?m)^event plain (.*)$", transcript.sent)
    events = subscription.group(1).decode().split() if subscription else []
    connection = connections(
        fast_config(server.port, bgapi_timeout=5.0),
        events=events,
        job_id_factory=lambda: next(job_ids),
    )
    connection.connect()
    return server, FreeSwitchClient(connection, **kwargs)


def test_api_driven_call_replays_i1(replay, connections: Factory):
    # Given the API-driven agent-first call of i1
    server, client = _replayed_client(replay, connections, "i1_api_driven_call_plain")
    path = "/usr/local/fs1/recordings/fx_i1_fx-i1-agent-leg.wav"

    # When the typed commands drive the same call
    agent = client.originate(
        destination="sofia/internal/agent1@127.0.0.1:5070",
        application="park",
        origination_uuid="fx-i1-agent-leg",
        caller_id_name="Agent",
        caller_id_number="1000",
        variables={"ignore_early_media": True},
    )
    customer = client.originate(
        destination="sofia/internal/customer@127.0.0.1:5072",
        application="park",
        origination_uuid="fx-i1-customer-leg",
        caller_id_name="Support",
        caller_id_number="5550199",
        variables={"ignore_early_media": True},
    )
    client.uuid_bridge(uuid=agent, other_uuid=customer)
    client.uuid_setvar(uuid=agent, name="fx_ticket", value=4711)
    ticket = client.uuid_getvar(uuid=agent, name="fx_ticket")
    client.uuid_record(uuid=agent, action=RecordAction.START, path=path)
    client.uuid_broadcast(uuid=customer, path="tone_stream://%(400,200,660);loops=2")
    client.uuid_send_dtmf(uuid=customer, digits="12")
    client.uuid_record(uuid=agent, action=RecordAction.STOP, path=path)
    existed = client.uuid_exists(uuid=agent)
    killed = client.uuid_kill(uuid=customer)
    exists_after = client.uuid_exists(uuid=agent)
    with pytest.raises(NoSuchChannel):
        client.uuid_kill(uuid=agent)

    # Then every command was byte-identical to the capture and the replies are typed
    assert server.mismatches == []
    assert server.finished.is_set()
    assert (agent, customer) == ("fx-i1-agent-leg", "fx-i1-customer-leg")
    assert ticket == "4711"
    assert (existed, killed, exists_after) == (True, True, False)


def test_bridge_hold_transfer_kill_replays_d1(replay, connections: Factory):
    # Given the bridged call of d1 (A = caller, B = agent)
    server, client = _replayed_client(replay, connections, "d1_bridge_plain")
    a_leg, b_leg = "968c698c-40f0-49d8-a61d-714c7c01d4d1", "ec6123a0-8cf0-4f1f-94e9-a836d7519a08"

    # When
    client.uuid_hold(uuid=b_leg)
    client.uuid_hold(uuid=b_leg, action=HoldAction.OFF)
    dump = client.uuid_dump(uuid=a_leg)
    channels = client.show_channels()
    client.uuid_transfer(uuid=a_leg, destination="5506", dialplan="XML", context="default")
    client.uuid_kill(uuid=a_leg)

    # Then
    assert server.mismatches == []
    assert server.finished.is_set()
    assert dump["Event-Name"] == "CHANNEL_DATA"
    assert dump["Unique-ID"] == a_leg
    assert [row["uuid"] for row in channels] == [a_leg, b_leg]
    assert channels[0]["application"] == "playback"


def test_recording_mask_and_pause_replays_k1(replay, connections: Factory):
    # Given the PCI masking capture of k1
    server, client = _replayed_client(replay, connections, "k1_record_mask_plain")
    a_leg = "fc825fe0-87b0-484f-88e7-b93bcea81c68"
    first = f"/usr/local/fs1/recordings/fx_k1_{a_leg}.wav"
    second = f"/usr/local/fs1/recordings/fx_k2_{a_leg}.wav"

    # When the recording is started, masked, unmasked, stopped, then paused/resumed
    client.uuid_record(uuid=a_leg, action=RecordAction.START, path=first)
    client.uuid_record(uuid=a_leg, action=RecordAction.MASK, path=first)
    client.uuid_record(uuid=a_leg, action=RecordAction.UNMASK, path=first)
    with pytest.raises(CommandError) as not_recording:
        client.uuid_record(
            uuid=a_leg,
            action=RecordAction.MASK,
            path="/usr/local/fs1/recordings/fx_k1_not_recording.wav",
        )
    client.uuid_record(uuid=a_leg, action=RecordAction.STOP, path=first)
    for action in (RecordAction.START, RecordAction.PAUSE, RecordAction.RESUME, RecordAction.STOP):
        client.uuid_record(uuid=a_leg, action=action, path=second)
    client.uuid_kill(uuid=a_leg)

    # Then
    assert server.mismatches == []
    assert server.finished.is_set()
    assert not_recording.value.reply == "-ERR Cannot mask recording session!"


def test_supervisor_eavesdrop_replays_j1(replay, connections: Factory):
    # Given the j1 bridged call; the supervisor listens to the caller leg
    server, client = _replayed_client(replay, connections, "j1_eavesdrop_plain")
    caller = "5e4d5bfe-cac5-467d-9abf-3cec51c00c7c"

    # When
    supervisor = client.eavesdrop(
        supervisor_destination="sofia/internal/supervisor@127.0.0.1:5074",
        target_uuid=caller,
        supervisor_uuid="fx-j1-supervisor",
        caller_id_name="Supervisor",
        caller_id_number="2000",
    )
    channels = client.show_channels()
    client.uuid_kill(uuid=caller)

    # Then
    assert server.mismatches == []
    assert supervisor == "fx-j1-supervisor"
    assert [row["application"] for row in channels] == ["bridge", "", "eavesdrop"]


def test_whisper_mute_and_mode_switch_replay_j2(replay, connections: Factory):
    # Given the j2 call: three supervisors on the caller leg, no DTMF
    server, client = _replayed_client(
        replay,
        connections,
        "j2_eavesdrop_whisper_api_plain",
        eavesdrop_event_subclass="fx::eavesdrop",
    )
    caller = "c8576651-6b57-48b6-8701-d9c9f4962e1a"
    supervisor = {"caller_id_name": "Supervisor", "caller_id_number": "2000"}

    # When: whisper to the agent (the target's partner), then to the caller with push-to-talk
    to_agent = client.eavesdrop(
        supervisor_destination="sofia/internal/supervisor@127.0.0.1:5074",
        target_uuid=caller,
        mode=EavesdropMode.TALK_TO_PARTNER,
        supervisor_uuid="fx-j2-sup-whisper-aleg",
        **supervisor,
    )
    client.uuid_kill(uuid=to_agent)
    to_caller = client.eavesdrop(
        supervisor_destination="sofia/internal/supervisor@127.0.0.1:5076",
        target_uuid=caller,
        mode=EavesdropMode.TALK_TO_TARGET,
        supervisor_uuid="fx-j2-sup-whisper-bleg",
        **supervisor,
    )
    with pytest.raises(UsageError):
        client.connection.api(f"uuid_audio {to_caller} start read mute")
    client.uuid_audio_mute(uuid=to_caller, muted=True)
    client.uuid_audio_mute(uuid=to_caller, muted=False)
    client.uuid_kill(uuid=to_caller)
    # and a listener switched through listen/whisper/barge by the application
    switched = client.eavesdrop(
        supervisor_destination="sofia/internal/supervisor@127.0.0.1:5078",
        target_uuid=caller,
        supervisor_uuid="fx-j2-sup-sendevent",
        **supervisor,
    )
    for mode in (
        EavesdropMode.TALK_TO_TARGET,
        EavesdropMode.TALK_TO_PARTNER,
        EavesdropMode.BARGE,
        EavesdropMode.LISTEN,
    ):
        client.set_eavesdrop_mode(supervisor_uuid=switched, mode=mode)
    client.uuid_kill(uuid=switched)
    client.uuid_kill(uuid=caller)

    # Then the capture's exact commands were sent (digits 2, 1, 3, 0 in that order)
    assert server.mismatches == []
    assert server.finished.is_set()


def test_inspection_commands_replay_b1(replay, connections: Factory):
    server, client = _replayed_client(replay, connections, "b1_api_commands")
    api = client.connection.api

    version = client.version()
    status = client.status()
    channels = client.show_channels()
    calls = client.show_calls()
    api("show channels")
    api("sofia status")
    api("sofia status profile internal")
    with pytest.raises(CommandError):
        api("no_such_command foo")
    registrations = client.registrations()
    domain = client.global_getvar(name="domain")

    assert server.mismatches == []
    assert version.endswith("(git a88d069 2024-08-02 21:02:27Z 64bit)")
    assert "session(s) since startup" in status
    # {"row_count": 0} has no "rows" at all.
    assert channels == calls == registrations == []
    assert domain == "127.0.0.1"


def test_directory_checks_replay_g1(replay, connections: Factory):
    server, client = _replayed_client(replay, connections, "g1_xml_curl_esl")
    api = client.connection.api

    api("load mod_xml_curl")
    api("xml_curl debug_on")
    known = client.user_exists(user="1500", domain="127.0.0.1")
    password = api("user_data 1500@127.0.0.1 param password")
    unknown = client.user_exists(user="1501", domain="127.0.0.1")
    registrations = client.registrations()

    assert server.mismatches == []
    assert (known, unknown, password) == (True, False, "fx1500pw")
    assert [(r["reg_user"], r["realm"]) for r in registrations] == [("1500", "127.0.0.1")]


# ------------------------------------------------------------- scripted FreeSWITCH


@pytest.fixture
def fs_client(fake_fs: FakeFreeSwitch, connections: Factory):
    """Yield (server, client) where every api uuid_* command answers +OK."""

    def on_command(session: FakeSession, command: str) -> bool:
        if command.startswith("api uuid_") and command[4:] not in fake_fs.api_handlers:
            session.api_response("+OK\n")
            return True
        return False

    fake_fs.on_command = on_command
    connection = connections(fast_config(fake_fs.port))
    connection.connect()
    return fake_fs, FreeSwitchClient(connection)


def _sent(fake_fs: FakeFreeSwitch) -> list[str]:
    # Drop auth and subscription; strip the Job-UUID header of bgapi.
    return [re.sub(r"\nJob-UUID: \S+", "", c) for c in fake_fs.current.commands[2:]]


def test_originate_failure_is_typed_and_rendered_like_b2(fs_client):
    fake_fs, client = fs_client
    target = "{originate_timeout=5}sofia/internal/nobody@127.0.0.1:5999 &park"
    fake_fs.bgapi_handlers[f"originate {target}"] = "-ERR NORMAL_TEMPORARY_FAILURE\n"
    fake_fs.bgapi_handlers["originate user/1005 &park"] = "-ERR USER_NOT_REGISTERED\n"

    with pytest.raises(TemporaryFailure) as failure:
        client.originate(
            destination="sofia/internal/nobody@127.0.0.1:5999", application="park", timeout=5
        )
    with pytest.raises(UserNotRegistered):
        client.originate(destination="user/1005", application="park")

    assert failure.value.cause == "NORMAL_TEMPORARY_FAILURE"
    assert _sent(fake_fs) == [f"bgapi originate {target}", "bgapi originate user/1005 &park"]


def test_originate_to_an_extension_and_with_quoted_arguments(fs_client):
    fake_fs, client = fs_client
    fake_fs.bgapi_handlers[
        "originate {origination_uuid=u1}loopback/5500/default 5500 XML default"
    ] = "+OK u1\n"
    fake_fs.bgapi_handlers[
        "originate {origination_caller_id_name='Jane Doe'}user/1000 '&playback(/sounds/a b.wav)'"
    ] = "+OK u2\n"

    first = client.originate(
        destination="loopback/5500/default", extension="5500", origination_uuid="u1"
    )
    second = client.originate(
        destination="user/1000",
        application="playback",
        application_args="/sounds/a b.wav",
        caller_id_name="Jane Doe",
    )

    assert (first, second) == ("u1", "u2")


def test_call_control_renderings(fs_client):
    fake_fs, client = fs_client
    fake_fs.api_handlers["uuid_getvar u1 missing"] = "_undef_"
    fake_fs.api_handlers["sofia_contact */1000@example.org"] = "error/user_not_registered"
    fake_fs.api_handlers["sofia_contact internal/1001@example.org"] = (
        "sofia/internal/sip:1001@127.0.0.1:5062"
    )

    client.uuid_transfer(uuid="u1", destination="5506", leg=TransferLeg.BLEG)
    client.uuid_transfer(uuid="u1", destination="5507", context="ivr", leg=TransferLeg.BOTH)
    client.uuid_hold(uuid="u1", action=HoldAction.TOGGLE)
    client.uuid_kill(uuid="u1", cause="USER_BUSY")
    client.uuid_record(uuid="u1", action=RecordAction.START, path="/r/x.wav", limit_seconds=60)
    client.uuid_broadcast(uuid="u1", path="/s/hello.wav", leg=TransferLeg.BOTH)
    client.uuid_send_dtmf(uuid="u1", digits="1#", duration_ms=200)
    client.uuid_setvar(uuid="u1", name="fx_note", value="two words")
    client.uuid_setvar(uuid="u1", name="fx_note", value=None)
    missing = client.uuid_getvar(uuid="u1", name="missing")
    unregistered = client.sofia_contact(user="1000", domain="example.org")
    registered = client.sofia_contact(user="1001", domain="example.org", profile="internal")

    assert _sent(fake_fs) == [
        "api uuid_transfer u1 -bleg 5506 XML default",
        "api uuid_transfer u1 -both 5507 XML ivr",
        "api uuid_hold toggle u1",
        "api uuid_kill u1 USER_BUSY",
        "api uuid_record u1 start /r/x.wav 60",
        "api uuid_broadcast u1 /s/hello.wav both",
        "api uuid_send_dtmf u1 1#@200",
        "api uuid_setvar u1 fx_note 'two words'",
        "api uuid_setvar u1 fx_note",
        "api uuid_getvar u1 missing",
        "api sofia_contact */1000@example.org",
        "api sofia_contact internal/1001@example.org",
    ]
    assert missing is None
    assert unregistered is None
    assert registered == "sofia/internal/sip:1001@127.0.0.1:5062"


def test_attended_transfer_start_complete_and_cancel(fs_client):
    fake_fs, client = fs_client
    fake_fs.bgapi_handlers[
        "originate {origination_uuid=c1,ignore_early_media=true}user/1002 &park"
    ] = "+OK c1\n"

    consult = client.attended_transfer_start(
        customer_uuid="cust", agent_uuid="agent", target_destination="user/1002", consult_uuid="c1"
    )
    client.attended_transfer_complete(consult)
    client.attended_transfer_cancel(consult)

    assert consult == ConsultCall(customer_uuid="cust", agent_uuid="agent", consult_uuid="c1")
    assert _sent(fake_fs) == [
        "bgapi originate {origination_uuid=c1,ignore_early_media=true}user/1002 &park",
        "api uuid_setvar cust park_after_bridge true",
        "api uuid_setvar cust hangup_after_bridge false",
        "api uuid_bridge agent c1",
        "api uuid_broadcast cust local_stream://moh aleg",
        # complete: customer to target, agent released
        "api uuid_bridge cust c1",
        "api uuid_kill agent",
        # cancel: customer back to agent, target released
        "api uuid_bridge cust agent",
        "api uuid_kill c1",
    ]


def test_eavesdrop_variables_per_mode(fs_client):
    fake_fs, client = fs_client
    for digits in ("", "eavesdrop_whisper_aleg=true,", "eavesdrop_whisper_bleg=true,"):
        fake_fs.bgapi_handlers[
            f"originate {{origination_uuid=s1,{digits}eavesdrop_enable_dtmf=false}}"
            "user/2000 &eavesdrop(t1)"
        ] = "+OK s1\n"
    fake_fs.bgapi_handlers[
        "originate {origination_uuid=s1,eavesdrop_whisper_aleg=true,eavesdrop_whisper_bleg=true,"
        "eavesdrop_enable_dtmf=false}user/2000 &eavesdrop(t1)"
    ] = "+OK s1\n"

    uuids = [
        client.eavesdrop(
            supervisor_destination="user/2000",
            target_uuid="t1",
            mode=mode,
            supervisor_uuid="s1",
            enable_dtmf=False,
        )
        for mode in EavesdropMode
    ]

    assert uuids == ["s1"] * 4
    assert [re.search(r"\{(.*)\}", c).group(1) for c in _sent(fake_fs)] == [
        "origination_uuid=s1,eavesdrop_enable_dtmf=false",
        "origination_uuid=s1,eavesdrop_whisper_bleg=true,eavesdrop_enable_dtmf=false",
        "origination_uuid=s1,eavesdrop_whisper_aleg=true,eavesdrop_enable_dtmf=false",
        "origination_uuid=s1,eavesdrop_whisper_aleg=true,eavesdrop_whisper_bleg=true,"
        "eavesdrop_enable_dtmf=false",
    ]


def test_unexpected_success_text_is_an_error(fs_client):
    fake_fs, client = fs_client
    fake_fs.api_handlers["uuid_bridge a b"] = "something else\n"
    with pytest.raises(CommandError, match="something else"):
        client.uuid_bridge(uuid="a", other_uuid="b")


# ------------------------------------------------------------------ pure rendering


def test_channel_variables_are_escaped_for_both_parsing_levels():
    rendered = render_channel_variables(
        {
            "origination_uuid": "abc",
            "origination_caller_id_name": "Jane Doe",
            "absolute_codec_string": "PCMA,PCMU",
            "sip_h_X-Note": "a, b",
            "ignore_early_media": True,
            "call_timeout": 15,
        }
    )
    assert rendered == (
        "{origination_uuid=abc,origination_caller_id_name='Jane Doe',"
        "absolute_codec_string=PCMA\\,PCMU,sip_h_X-Note='a\\, b',"
        "ignore_early_media=true,call_timeout=15}"
    )
    assert render_channel_variables({}) == ""


@pytest.mark.parametrize(
    "variables",
    [
        {"bad name": "x"},
        {"x": "it's"},
        {"x": "back\\slash"},
        {"x": "{nested}"},
        {"x": "line\nbreak"},
        {"x": "^^:sep"},
    ],
)
def test_unrenderable_variables_are_refused(variables: dict[str, str]):
    with pytest.raises(ValueError, match="variable"):
        render_channel_variables(variables)


def test_invalid_arguments_are_refused_before_sending(fs_client):
    fake_fs, client = fs_client
    with pytest.raises(ValueError, match="exactly one"):
        client.originate(destination="user/1000")
    with pytest.raises(ValueError, match="exactly one"):
        client.originate(destination="user/1000", application="park", extension="5500")
    with pytest.raises(ValueError, match=r"cannot contain \)"):
        client.originate(
            destination="user/1000",
            application="playback",
            application_args="tone_stream://%(500,500,440)",
        )
    with pytest.raises(ValueError, match="one word"):
        client.uuid_kill(uuid="a b")
    with pytest.raises(ValueError, match="DTMF"):
        client.uuid_send_dtmf(uuid="u1", digits="12x")
    with pytest.raises(ValueError, match="start only"):
        client.uuid_record(uuid="u1", action=RecordAction.STOP, path="/r.wav", limit_seconds=5)
    assert _sent(fake_fs) == []
