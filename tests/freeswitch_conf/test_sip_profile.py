"""The internal SIP profile serves desk phones, carriers and browsers as the WebRTC probe showed."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from tests.freeswitch_conf.support import (
    FIXTURES,
    SECRETS_ENV,
    configuration,
    document,
    params,
    sip_profile,
)

WEBRTC = FIXTURES / "webrtc"


def _probe_url(transport: str) -> str:
    results = json.loads((WEBRTC / "recommended" / f"{transport}-results.json").read_text())
    return results["ws_url"]


def test_there_is_one_profile_called_internal():
    profiles = configuration(document(), "sofia.conf").findall("./profiles/profile")
    assert [profile.get("name") for profile in profiles] == ["internal"]


def test_ws_and_wss_listen_on_the_ports_the_browser_probe_used():
    # Given the URLs the probe's JsSIP connected to (ws://127.0.0.1:5066, wss://127.0.0.1:7443)
    ws_port = urlsplit(_probe_url("ws")).port
    wss_port = urlsplit(_probe_url("wss")).port
    # Then the profile binds the same ports on its SIP address, and wss finds its certificate
    settings = params(sip_profile(document()))
    assert settings["ws-binding"] == [f":{ws_port}"]
    assert settings["wss-binding"] == [f":{wss_port}"]
    assert settings["tls-cert-dir"] == ["/etc/freeswitch/tls"]


def test_ports_and_certificate_directory_come_from_the_environment():
    root = document(
        SECRETS_ENV
        | {
            "FREESWITCH_SIP_PORT": "5070",
            "FREESWITCH_WS_PORT": "5067",
            "FREESWITCH_WSS_PORT": "8443",
            "FREESWITCH_TLS_CERT_DIR": "/srv/fs/certs",
        }
    )
    settings = params(sip_profile(root))
    assert settings["sip-port"] == ["5070"]
    assert settings["ws-binding"] == [":5067"]
    assert settings["wss-binding"] == [":8443"]
    assert settings["tls-cert-dir"] == ["/srv/fs/certs"]


def test_addresses_are_given_never_discovered_with_stun():
    # Given a machine whose public address differs from its own
    root = document(SECRETS_ENV | {"FREESWITCH_EXTERNAL_IP": "203.0.113.7"})
    settings = params(sip_profile(root))
    assert settings["sip-ip"] == ["192.0.2.10"]
    assert settings["rtp-ip"] == ["192.0.2.10"]
    assert settings["ext-sip-ip"] == ["203.0.113.7"]
    assert settings["ext-rtp-ip"] == ["203.0.113.7"]
    # Then no setting anywhere asks a STUN server
    for element in root.iter():
        assert "stun" not in element.get("name", "").lower()
        assert "stun" not in element.get("value", "").lower()


def test_without_an_external_address_the_local_one_is_advertised():
    settings = params(sip_profile(document()))
    assert settings["ext-rtp-ip"] == settings["rtp-ip"] == ["192.0.2.10"]


def test_browser_candidates_from_the_agents_networks_and_public_addresses_are_accepted():
    root = document(SECRETS_ENV | {"FREESWITCH_AGENT_CIDRS": "10.20.0.0/16"})
    assert params(sip_profile(root))["apply-candidate-acl"] == ["agent_networks", "wan.auto"]
    agent_networks = configuration(root, "acl.conf").find(
        "./network-lists/list[@name='agent_networks']"
    )
    assert [node.get("cidr") for node in agent_networks.findall("node")] == ["10.20.0.0/16"]


def test_the_default_agent_networks_include_loopback_and_private_ranges():
    agent_networks = configuration(document(), "acl.conf").find(
        "./network-lists/list[@name='agent_networks']"
    )
    cidrs = agent_networks.find("node").get("cidr").split(",")
    assert cidrs == [
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
    ]


def test_session_timers_stay_at_the_minimum_the_probe_saw():
    # Given FreeSWITCH's answer to JsSIP's default Session-Expires: 90 in the probe
    trace = (WEBRTC / "session-timers-90-422" / "ws-fs-siptrace.txt").read_text()
    assert "SIP/2.0 422 Session Interval Too Small" in trace
    assert re.search(r"^Min-SE: 120\r?$", trace, re.MULTILINE)
    # Then the profile keeps those defaults (the softphone is configured for them instead)
    settings = params(sip_profile(document()))
    assert "minimum-session-expires" not in settings
    assert "session-timeout" not in settings
    assert "enable-timer" not in settings


def test_codecs_offer_opus_then_the_g722_the_browsers_negotiated_then_g711():
    results = json.loads((WEBRTC / "recommended" / "ws-results.json").read_text())
    negotiated = results["incoming"]["fs_channel"]["variable_rtp_use_codec_name"]
    settings = params(sip_profile(document()))
    assert settings["inbound-codec-prefs"] == ["OPUS,G722,PCMU,PCMA"]
    assert settings["outbound-codec-prefs"] == ["OPUS,G722,PCMU,PCMA"]
    assert negotiated in settings["inbound-codec-prefs"][0].split(",")
    assert settings["inbound-codec-negotiation"] == ["generous"]


def test_dtmf_is_accepted_as_rfc2833_and_sip_info():
    settings = params(sip_profile(document()))
    assert settings["liberal-dtmf"] == ["true"]
    assert settings["rfc2833-pt"] == ["101"]


def test_agents_authenticate_and_carriers_enter_public_by_address():
    root = document(SECRETS_ENV | {"FREESWITCH_CARRIER_CIDRS": "198.51.100.0/28"})
    settings = params(sip_profile(root))
    assert settings["auth-calls"] == ["true"]
    assert settings["apply-inbound-acl"] == ["carriers"]
    assert settings["context"] == ["public"]
    assert settings["inbound-reg-force-matching-username"] == ["true"]
    carriers = configuration(root, "acl.conf").find("./network-lists/list[@name='carriers']")
    assert (carriers.get("default"), carriers.find("node").get("cidr")) == (
        "deny",
        "198.51.100.0/28",
    )


def test_registrations_use_the_configured_sip_domain():
    root = document(SECRETS_ENV | {"FREESWITCH_SIP_DOMAIN": "pbx.example.com"})
    settings = params(sip_profile(root))
    assert settings["force-register-domain"] == ["pbx.example.com"]
    assert settings["force-register-db-domain"] == ["pbx.example.com"]
    assert settings["challenge-realm"] == ["auto_from"]


def test_the_sip_domain_defaults_to_the_local_address():
    assert params(sip_profile(document()))["force-register-domain"] == ["192.0.2.10"]


def test_the_profile_refuses_to_run_half_bound():
    settings = params(sip_profile(document()))
    assert settings["shutdown-on-fail"] == ["true"]
    assert settings["hold-music"] == ["local_stream://moh"]
