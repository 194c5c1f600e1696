"""mod_xml_curl endpoints answer FreeSWITCH's real form posts (captured in g1), and only FreeSWITCH.

Who may call: requests from FREESWITCH_XML_ALLOWED_IPS with the basic-auth credentials
FREESWITCH_XML_USERNAME / FREESWITCH_XML_PASSWORD; everything else is refused before any lookup.
"""

from __future__ import annotations

import base64
import json
import logging
from xml.etree import ElementTree

import pytest

from apps.telephony.dialplan import (
    EntryPoint,
    register_entry_point_resolver,
    unregister_entry_point_resolver,
)
from apps.telephony.xml_endpoints import NOT_FOUND_DOCUMENT
from tests.factories import AgentFactory
from tests.telephony.conftest import ESL_FIXTURES

pytestmark = pytest.mark.django_db

DIRECTORY_URL = "/freeswitch/xml/directory/"
DIALPLAN_URL = "/freeswitch/xml/dialplan/"
REQUESTS = json.loads((ESL_FIXTURES / "g1_xml_curl_requests.json").read_text())
# The captured requests, by what they asked (see g_xml_curl.md).
DIALPLAN_5507, USER_EXISTS_1500, USER_DATA_1500, USER_EXISTS_1501, SIP_AUTH_1500 = (
    REQUESTS[0],
    REQUESTS[1],
    REQUESTS[2],
    REQUESTS[3],
    REQUESTS[4],
)
DIALPLAN_5599 = REQUESTS[6]


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _post(client, url: str, captured: dict, *, auth: str | None = None, address="127.0.0.1"):
    """POST the captured body exactly as FreeSWITCH sent it."""
    headers = {"REMOTE_ADDR": address, "HTTP_USER_AGENT": captured["headers"]["User-Agent"]}
    if auth is not None:
        headers["HTTP_AUTHORIZATION"] = auth
    return client.post(
        url,
        data=captured["raw_body"],
        content_type=captured["headers"]["Content-Type"],
        **headers,
    )


@pytest.fixture
def fs_auth(settings) -> str:
    settings.FREESWITCH_XML_USERNAME = "freeswitch"
    settings.FREESWITCH_XML_PASSWORD = "xml-secret"
    settings.FREESWITCH_XML_ALLOWED_IPS = ["127.0.0.1", "10.1.0.0/16"]
    settings.FREESWITCH_SIP_DOMAIN = "127.0.0.1"
    return _basic("freeswitch", "xml-secret")


@pytest.fixture
def agent_1500(role_groups):
    return AgentFactory(
        extension="1500", sip_password="fx1500pw", user__first_name="Li", user__last_name="Wei"
    )


@pytest.fixture(autouse=True)
def _no_other_resolvers(monkeypatch):
    """Keep the IVR app's resolver (registered in its AppConfig.ready) out of these tests."""
    from apps.telephony import dialplan

    monkeypatch.setattr(dialplan, "_resolvers", [])


@pytest.fixture
def entry_points():
    """Register a resolver as the IVR app would: 5507 runs a flow, 5508 goes straight to sales."""

    def resolver(did, fields):
        if did == "5507":
            return EntryPoint(httapi_url="http://127.0.0.1:8000/freeswitch/httapi/", queue="")
        if did == "5508":
            return EntryPoint(queue="sales", variables={"cc_language": "zh-hans"})
        return None

    register_entry_point_resolver(resolver)
    yield resolver
    unregister_entry_point_resolver(resolver)


# ------------------------------------------------------------------------------ who may ask


@pytest.mark.parametrize("url", [DIRECTORY_URL, DIALPLAN_URL])
def test_a_request_without_credentials_is_refused(client, fs_auth, agent_1500, url):
    response = _post(client, url, USER_EXISTS_1500)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="freeswitch-xml"'
    assert b"fx1500pw" not in response.content


@pytest.mark.parametrize(
    "auth",
    [_basic("freeswitch", "wrong"), _basic("other", "xml-secret"), "Basic !!!", "Bearer abc"],
)
def test_wrong_credentials_are_refused(client, fs_auth, agent_1500, auth):
    response = _post(client, DIRECTORY_URL, USER_EXISTS_1500, auth=auth)

    assert response.status_code == 401
    assert b"fx1500pw" not in response.content


@pytest.mark.parametrize("address", ["192.0.2.7", "10.2.0.1", "::1", "not-an-address"])
def test_an_address_outside_the_allowlist_is_refused_even_with_credentials(
    client, fs_auth, agent_1500, address
):
    response = _post(client, DIRECTORY_URL, USER_EXISTS_1500, auth=fs_auth, address=address)

    assert response.status_code == 403
    assert b"fx1500pw" not in response.content


def test_an_allowed_network_is_accepted(client, fs_auth, agent_1500):
    response = _post(client, DIRECTORY_URL, USER_EXISTS_1500, auth=fs_auth, address="10.1.3.4")

    assert response.status_code == 200


def test_get_is_not_allowed(client, fs_auth):
    response = client.get(DIRECTORY_URL, REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION=fs_auth)

    assert response.status_code == 405


# -------------------------------------------------------------------------------- directory


@pytest.mark.parametrize(
    "captured", [USER_EXISTS_1500, USER_DATA_1500, SIP_AUTH_1500], ids=["exists", "data", "auth"]
)
def test_the_directory_gives_freeswitch_the_agents_sip_credentials(
    client, fs_auth, agent_1500, captured
):
    response = _post(client, DIRECTORY_URL, captured, auth=fs_auth)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    document = ElementTree.fromstring(response.content)  # noqa: S314  (our own answer)
    assert document.get("type") == "freeswitch/xml"
    domain = document.find("section[@name='directory']/domain")
    assert domain.get("name") == "127.0.0.1"
    assert (
        domain.find("params/param[@name='dial-string']")
        .get("value")
        .endswith("${sofia_contact(*/${dialed_user}@${dialed_domain})}")
    )
    user = domain.find("groups/group/users/user")
    assert user.get("id") == "1500"
    assert user.find("params/param[@name='password']").get("value") == "fx1500pw"
    variables = {v.get("name"): v.get("value") for v in user.findall("variables/variable")}
    assert variables == {
        "user_context": "default",
        "effective_caller_id_name": "Li Wei",
        "effective_caller_id_number": "1500",
        "cc_agent_id": str(agent_1500.pk),
    }


def test_an_unknown_user_gets_the_not_found_document(client, fs_auth, agent_1500):
    response = _post(client, DIRECTORY_URL, USER_EXISTS_1501, auth=fs_auth)

    assert response.status_code == 200
    assert response.content.decode() == NOT_FOUND_DOCUMENT


def test_an_inactive_agent_is_not_in_the_directory(client, fs_auth, agent_1500):
    agent_1500.is_active = False
    agent_1500.save()

    response = _post(client, DIRECTORY_URL, SIP_AUTH_1500, auth=fs_auth)

    assert response.content.decode() == NOT_FOUND_DOCUMENT


def test_another_domain_is_not_ours(client, fs_auth, agent_1500, settings):
    settings.FREESWITCH_SIP_DOMAIN = "sip.example.test"

    response = _post(client, DIRECTORY_URL, USER_EXISTS_1500, auth=fs_auth)

    assert response.content.decode() == NOT_FOUND_DOCUMENT


def test_a_dialplan_request_sent_to_the_directory_url_is_not_found(client, fs_auth, entry_points):
    response = _post(client, DIRECTORY_URL, DIALPLAN_5507, auth=fs_auth)

    assert response.content.decode() == NOT_FOUND_DOCUMENT


def test_the_sip_password_never_reaches_the_logs(client, fs_auth, agent_1500, caplog):
    caplog.set_level(logging.DEBUG)

    _post(client, DIRECTORY_URL, SIP_AUTH_1500, auth=fs_auth)
    _post(client, DIRECTORY_URL, SIP_AUTH_1500, auth=_basic("freeswitch", "wrong"))
    _post(client, DIRECTORY_URL, SIP_AUTH_1500, auth=fs_auth, address="192.0.2.7")

    assert "fx1500pw" not in caplog.text
    assert "xml-secret" not in caplog.text


# --------------------------------------------------------------------------------- dialplan


def _actions(response) -> list[tuple[str, str | None]]:
    document = ElementTree.fromstring(response.content)  # noqa: S314  (our own answer)
    condition = document.find("section[@name='dialplan']/context/extension/condition")
    return [(a.get("application"), a.get("data")) for a in condition.findall("action")]


def test_a_did_with_an_ivr_runs_httapi_then_always_parks_in_a_queue(client, fs_auth, entry_points):
    response = _post(client, DIALPLAN_URL, DIALPLAN_5507, auth=fs_auth)

    assert response.status_code == 200
    document = ElementTree.fromstring(response.content)  # noqa: S314  (our own answer)
    context = document.find("section[@name='dialplan']/context")
    assert context.get("name") == "default"
    condition = context.find("extension/condition")
    assert (condition.get("field"), condition.get("expression")) == (
        "destination_number",
        "^5507$",
    )
    assert _actions(response) == [
        ("set", "cc_did=5507"),
        ("set", "cc_queue=default"),
        ("answer", None),
        ("httapi", "{url=http://127.0.0.1:8000/freeswitch/httapi/}"),
        ("park", None),
    ]


def test_a_did_without_an_ivr_goes_to_its_queue_with_its_variables(client, fs_auth, entry_points):
    fields = [
        (name, "5508" if name == "Caller-Destination-Number" else value)
        for name, value in DIALPLAN_5507["fields"]
    ]
    response = client.post(
        DIALPLAN_URL,
        data=dict(fields),
        REMOTE_ADDR="127.0.0.1",
        HTTP_AUTHORIZATION=fs_auth,
    )

    assert _actions(response) == [
        ("set", "cc_did=5508"),
        ("set", "cc_queue=sales"),
        ("set", "cc_language=zh-hans"),
        ("answer", None),
        ("park", None),
    ]


def test_a_did_nobody_claims_gets_the_not_found_document(client, fs_auth, entry_points):
    response = _post(client, DIALPLAN_URL, DIALPLAN_5599, auth=fs_auth)

    assert response.status_code == 200
    assert response.content.decode() == NOT_FOUND_DOCUMENT


def test_without_any_resolver_every_did_is_not_found(client, fs_auth):
    response = _post(client, DIALPLAN_URL, DIALPLAN_5507, auth=fs_auth)

    assert response.content.decode() == NOT_FOUND_DOCUMENT
