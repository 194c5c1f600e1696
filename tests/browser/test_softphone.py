"""The browser softphone against a stand-in SIP WebSocket server: it registers with the agent's
directory credentials (digest, after a 401), with the settings recorded against a real
FreeSWITCH (contact with a .invalid host and transport=ws, no session timers); an incoming call
shows, is answered with an SDP answer to FreeSWITCH's recorded offer, mutes and hangs up; only
one tab of the agent runs the softphone and another takes over when it closes."""

from __future__ import annotations

import pytest

from tests.browser import harness
from tests.browser.conftest import login
from tests.browser.sip_stand_in import SipStandIn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sip_server(cast):
    server = SipStandIn(password=cast.agent_a1.sip_password)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def web(cast, sip_server, database_name, processes):
    env = harness.suite_env(
        database_name, FREESWITCH_WSS_URL=sip_server.url, FREESWITCH_SIP_DOMAIN="127.0.0.1"
    )
    process, base_url = harness.start_web(env)
    processes.append(process)
    return base_url


def _phone(page, attribute: str, value: str):  # type: ignore[no-untyped-def]
    return page.wait_for_selector(f'[data-testid=softphone-panel][data-{attribute}="{value}"]')


def test_softphone_registers_rings_answers_mutes_and_hangs_up(cast, chromium, web, sip_server):
    extension = cast.agent_a1.extension
    context = chromium.new_context()
    page = context.new_page()
    # given agent_a1 (browser softphone) opening the console
    login(page, web, cast.agent_a1.user.username)
    # then the softphone registers: challenged first, then accepted with the digest
    page.wait_for_selector('[data-testid=softphone-status][data-status="registered"]')
    first, second = sip_server.of(method="REGISTER")[:2]
    assert "Authorization" not in dict(first.headers)
    assert f'username="{extension}"' in second.header("Authorization")
    assert second.header("Contact").startswith(
        f"<sip:{extension}@agent-{extension}.invalid;transport=ws>"
    )
    assert sip_server.registrations == 1

    # a second tab does not register again: one softphone per agent
    other = context.new_page()
    other.goto(f"{web}/console/")
    other.wait_for_selector('[data-testid=softphone-status][data-status="other-tab"]')

    # when FreeSWITCH rings the agent
    sip_server.send_invite(caller="5555", display="Customer")
    _phone(page, "call", "incoming")
    page.wait_for_selector('[data-testid=incoming-number]:has-text("Customer")')
    assert sip_server.wait_for(lambda server: server.of(status=180))
    harness.screenshot(page, "softphone-1-incoming")

    # the agent answers: a 200 OK with an SDP answer to FreeSWITCH's offer, without timers
    page.click("[data-testid=incoming-answer]")
    assert sip_server.wait_for(
        lambda server: (
            server.of(status=200)[-1:] and "INVITE" in (server.of(status=200)[-1].header("CSeq"))
        )
    )
    ok = [message for message in sip_server.of(status=200) if "INVITE" in message.header("CSeq")]
    answer = ok[-1]
    assert answer.header("Content-Type") == "application/sdp"
    assert "a=setup:active" in answer.body
    assert "m=audio" in answer.body
    assert "Session-Expires" not in dict(answer.headers)
    _phone(page, "call", "in-call")
    page.wait_for_selector("[data-testid=incoming-call].hidden", state="attached")

    # mute is local to the softphone
    page.click("[data-testid=phone-mute]")
    _phone(page, "muted", "true")
    page.click("[data-testid=phone-unmute]")
    _phone(page, "muted", "false")
    harness.screenshot(page, "softphone-2-in-call")

    # hanging up sends BYE
    page.click("[data-testid=phone-hangup]")
    assert sip_server.wait_for(lambda server: server.of(method="BYE"))
    _phone(page, "call", "idle")

    # the audio devices can be chosen
    page.click("details.devices summary")
    page.wait_for_selector("[data-testid=input-device] option >> nth=1", state="attached")

    # closing the first tab lets the other one take the softphone over
    page.close()
    other.wait_for_selector('[data-testid=softphone-status][data-status="registered"]')
    assert sip_server.registrations >= 2
    context.close()
