"""The console page and its JavaScript catalog."""

from __future__ import annotations

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _config(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="console-config" type="application/json">')
    body = html[start:].split(">", 1)[1].split("</script>", 1)[0]
    return json.loads(body)


def test_anonymous_users_are_sent_to_log_in(cast):
    response = Client().get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/console/"


def test_the_agent_gets_their_console_with_the_softphone(cast):
    response = _client(cast.agent_a1.user).get("/console/")
    assert response.status_code == 200
    config = _config(response)
    assert config["agentId"] == cast.agent_a1.pk
    assert config["viewing"] is False
    assert config["socketPath"] == "/ws/console/"
    assert config["softphone"] == {
        "enabled": True,
        "credentialsUrl": f"/api/v1/agents/{cast.agent_a1.pk}/sip-credentials/",
    }
    assert "vendor/jssip/jssip-3.13.8.min.js" in response.content.decode()


def test_a_desk_phone_agent_gets_the_console_as_a_controller(cast):
    cast.agent_a1.endpoint = "sip"
    cast.agent_a1.save(update_fields=["endpoint"])
    response = _client(cast.agent_a1.user).get("/console/")
    assert _config(response)["softphone"]["enabled"] is False
    assert "jssip" not in response.content.decode()


def test_a_supervisor_picks_then_views_an_agent(cast):
    client = _client(cast.supervisor_a)
    picker = client.get("/console/")
    assert picker.status_code == 200
    assert f'href="?agent={cast.agent_a1.pk}"' in picker.content.decode()
    assert f'href="?agent={cast.agent_b1.pk}"' not in picker.content.decode()
    view = client.get(f"/console/?agent={cast.agent_a1.pk}")
    config = _config(view)
    assert config["viewing"] is True
    assert config["socketPath"] == f"/ws/console/?agent={cast.agent_a1.pk}"
    assert config["softphone"]["enabled"] is False


@pytest.mark.parametrize(("who", "expected"), [("supervisor_b", 404), ("qa", 403)])
def test_others_cannot_open_the_agents_console(cast, who, expected):
    response = _client(getattr(cast, who)).get(f"/console/?agent={cast.agent_a1.pk}")
    assert response.status_code == expected


def test_the_page_is_translated(cast):
    user = cast.agent_a1.user
    user.language = "zh-hans"
    user.save(update_fields=["language"])
    response = _client(user).get("/console/")
    assert '<html lang="zh-hans">' in response.content.decode()


def test_the_javascript_catalog_is_served(cast):
    response = _client(cast.agent_a1.user).get("/console/jsi18n/")
    assert response.status_code == 200
    assert "gettext" in response.content.decode()
