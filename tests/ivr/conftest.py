"""IVR test helpers: flows built from node tables, and FreeSWITCH's requests sent over HTTP.

Requests are built from the real captures (shared/fixtures/httapi): the Caller-* fields, header
set and encoding of the recorded FreeSWITCH 1.10.12 requests, with the suite's own params.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.ivr import graph as graph_module
from apps.ivr import prompts as prompts_module
from apps.ivr import services
from apps.ivr.engine import live_versions_forget
from apps.ivr.fs_emulator import (
    CallerScript,
    HttapiProfile,
    HttapiRequest,
    HttapiSession,
    run_dialog,
)
from apps.ivr.models import Flow, FlowNode, InboundNumber, Prompt, PromptVariant

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "httapi"
REPO = Path(__file__).resolve().parents[2]
FS_USER = "freeswitch"
FS_PASSWORD = "xml-test-secret"
DID = "4001234567"
SUITE_URL = "http://127.0.0.1/freeswitch/httapi/"


def load_capture(name: str) -> list[dict[str, Any]]:
    """Return the request records of a capture (e.g. "1_ivr_post")."""
    return json.loads((FIXTURES / f"{name}_requests.json").read_text())


def captured_caller_fields(
    name: str = "1_ivr_post", *, destination: str = DID
) -> tuple[str, list[tuple[str, str]]]:
    """Return (session id, Caller-* fields) of a capture's first request, to `destination`."""
    first = load_capture(name)[0]
    fields = [(key, value) for key, value in first["fields"] if key.startswith("Caller-")]
    fields = [
        (key, destination if key == "Caller-Destination-Number" else value) for key, value in fields
    ]
    return first["session_id"], fields


def repo_profile(method: str = "POST") -> HttapiProfile:
    """The suite's own httapi profile (freeswitch_conf/autoload_configs/httapi.conf.xml)."""
    text = (REPO / "freeswitch_conf" / "autoload_configs" / "httapi.conf.xml").read_text()
    profile = HttapiProfile.from_conf(
        text,
        "default",
        {
            "suite_base_url": "http://127.0.0.1",
            "suite_http_username": FS_USER,
            "suite_http_password": FS_PASSWORD,
            "httapi_timeout": "5",
            "suite_tls_verify": "false",
        },
    )
    if method != profile.method:
        profile = HttapiProfile(**{**profile.__dict__, "method": method})
    return profile


def auth_header() -> str:
    return "Basic " + base64.b64encode(f"{FS_USER}:{FS_PASSWORD}".encode()).decode()


@pytest.fixture(autouse=True)
def _freeswitch_credentials(settings, tmp_path):
    settings.FREESWITCH_XML_USERNAME = FS_USER
    settings.FREESWITCH_XML_PASSWORD = FS_PASSWORD
    settings.FREESWITCH_XML_ALLOWED_IPS = ["127.0.0.1", "::1"]
    settings.IVR_TTS_COMMAND = []  # tests synthesise only where they say so
    settings.MEDIA_ROOT = str(tmp_path / "media")
    graph_module._PUBLISHED.clear()
    prompts_module._CACHE.clear()
    live_versions_forget()
    yield
    graph_module._PUBLISHED.clear()
    prompts_module._CACHE.clear()


@dataclass
class FreeswitchHttp:
    """Sends emulated FreeSWITCH requests through Django's test client, headers as captured."""

    client: Client
    authorization: str | None = None
    sent: list[HttapiRequest] = field(default_factory=list)

    def __call__(self, request: HttapiRequest) -> tuple[int, str, bytes]:
        self.sent.append(request)
        parts = urllib.parse.urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"HTTP_USER_AGENT": "mod_httapi/1.0", "HTTP_ACCEPT": "*/*", "HTTP_COOKIE": ""}
        if self.authorization is not None:
            headers["HTTP_AUTHORIZATION"] = self.authorization
        if request.files:
            data: dict[str, Any] = dict(request.fields)
            for name, (filename, content) in request.files.items():
                data[name] = SimpleUploadedFile(filename, content, content_type="audio/wav")
            response = self.client.post(path, data=data, **headers)
        elif request.method == "POST":
            response = self.client.generic(
                "POST",
                path,
                data=request.encoded(),
                content_type="application/x-www-form-urlencoded",
                **headers,
            )
        else:
            separator = "&" if "?" in path else "?"
            response = self.client.generic("GET", path + separator + request.encoded(), **headers)
        return response.status_code, response.get("Content-Type", ""), response.content


@pytest.fixture
def fs_http(client) -> FreeswitchHttp:
    return FreeswitchHttp(client=client, authorization=auth_header())


def new_session(
    *,
    destination: str = DID,
    method: str = "POST",
    capture: str = "1_ivr_post",
    caller_number: str | None = None,
) -> HttapiSession:
    """Return an emulated httapi application as the suite's dialplan would start it."""
    session_id, caller = captured_caller_fields(capture, destination=destination)
    if caller_number is not None:
        caller = [
            (key, caller_number if key in ("Caller-Caller-ID-Number", "Caller-ANI") else value)
            for key, value in caller
        ]
    return HttapiSession(
        session_id=session_id,
        caller=caller,
        app_data=f"{{httapi_profile=default,cc_did={destination}}}",
        profile=repo_profile(method),
        hostname="vm",
    )


def call(fs_http: FreeswitchHttp, inputs: list[str], **kwargs: Any):
    """Run a whole call through the endpoint; return (turns, final result, session)."""
    session = new_session(**kwargs)
    turns, final = run_dialog(session, CallerScript(inputs=list(inputs)), fs_http)
    return turns, final, session


def parse(body: bytes) -> ET.Element:
    return ET.fromstring(body)  # noqa: S314 - our own documents


def work_tags(body: bytes) -> list[tuple[str, dict[str, str]]]:
    """Return the (tag, attributes) of a document's work, binds folded into "binds"."""
    work = parse(body).find("work")
    assert work is not None
    tags = []
    for element in work:
        attributes = dict(element.attrib)
        binds = [child.text or "" for child in element.findall("bind")]
        if binds:
            attributes["binds"] = "|".join(binds)
        tags.append((element.tag, attributes))
    return tags


def variables_of(body: bytes) -> dict[str, str]:
    variables = parse(body).find("variables")
    return {child.tag: child.text or "" for child in variables} if variables is not None else {}


def make_prompts(names: set[str], languages: tuple[str, ...]) -> None:
    for name in names:
        prompt, _ = Prompt.objects.get_or_create(name=name)
        for language in languages:
            PromptVariant.objects.get_or_create(
                prompt=prompt, language=language, defaults={"text": f"{name} ({language})"}
            )


def prompt_names_of(nodes: dict[str, tuple[str, dict]]) -> set[str]:
    keys = ("prompt", "invalid_prompt", "timeout_prompt")
    return {config[key] for _kind, config in nodes.values() for key in keys if config.get(key)}


def make_flow(
    nodes: dict[str, tuple[str, dict]],
    *,
    name: str = "Test flow",
    entry: str = "start",
    default_language: str = "en",
    languages: tuple[str, ...] = ("en",),
    did: str | None = DID,
    publish: bool = True,
    fallback_queue: str = "",
    prompts: bool = True,
) -> Flow:
    """Create a flow whose first version holds the nodes; publish it unless told not to."""
    if prompts:
        make_prompts(prompt_names_of(nodes), languages)
    flow = Flow.objects.create(
        name=name,
        default_language=default_language,
        languages=list(languages),
        fallback_queue=fallback_queue,
    )
    draft = services.flow_version_create_draft(actor=None, flow=flow)
    draft.entry_node = entry
    draft.save()
    FlowNode.objects.bulk_create(
        [
            FlowNode(version=draft, key=key, kind=kind, config=config, position=index)
            for index, (key, (kind, config)) in enumerate(nodes.items())
        ]
    )
    if publish:
        services.flow_version_publish(actor=None, version=draft)
    if did:
        InboundNumber.objects.create(number=did, flow=flow)
    flow.refresh_from_db()
    return flow


MENU_FLOW: dict[str, tuple[str, dict]] = {
    "start": (
        "menu",
        {
            "prompt": "main",
            "options": {"1": "sales", "2": "billing"},
            "on_failure": "bye",
            "invalid_prompt": "invalid",
            "timeout_prompt": "silence",
            "retries": 1,
            "timeout_ms": 4000,
        },
    ),
    "sales": ("queue", {"queue": "sales", "prompt": "hold"}),
    "billing": ("queue", {"queue": "billing", "priority": 7, "skills": ["billing"]}),
    "bye": ("hangup", {"prompt": "goodbye"}),
}

FIXED_NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)  # a Monday

QUEUE_SLUGS = ("sales", "billing", "after_sales", "support")


@pytest.fixture(autouse=True)
def queues(request):
    """The routing app's queues the test flows send callers to (validation checks they exist)."""
    if "django_db_setup" not in request.fixturenames and not request.node.get_closest_marker(
        "django_db"
    ):
        yield
        return
    transactional = {"transactional_db", "live_server"} & set(request.fixturenames)
    request.getfixturevalue("transactional_db" if transactional else "db")
    from apps.routing.models import Queue

    for slug in QUEUE_SLUGS:
        Queue.objects.get_or_create(slug=slug, defaults={"name": slug.title()})
    yield
