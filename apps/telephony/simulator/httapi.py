"""The ``httapi`` dialplan step: run mod_httapi documents the way FreeSWITCH 1.10.12 does.

Use it in a route, e.g. for the demo's IVR number::

    router.set_route("4001234567", [Answer(), Httapi(
        "{url=${suite_base_url}/freeswitch/httapi/}",
        variables={"suite_base_url": "http://127.0.0.1:8000"},
        username="freeswitch", password="xml-dev-only"), Park()])

Requests and document handling come from :mod:`apps.ivr.fs_emulator` (built from the captures in
shared/fixtures/httapi): the same fields in the same order (session_id, the app-data params,
hostname, the 30 Caller-* fields, persistent params, one-time input fields), FreeSWITCH's url
encoding, POST or GET per profile, basic auth, only 200 + text/xml accepted, the cumulative 1 MiB
budget, binds matched like switch_ivr_dmachine. The caller's keys are the call's
:attr:`~.dialplan.CallSession.planned_digits`, consumed prompt by prompt ("21": 2 at the first
menu, 1 at the next). What FreeSWITCH does on the channel is replayed here: <variables> set
channel variables (no event, like switch_channel_set_variable), playbacks fire PLAYBACK_START /
PLAYBACK_STOP (no CHANNEL_EXECUTE: httapi plays files itself), matched keys fire DTMF events,
<hangup> hangs up, <break/> and every failure end the application and the dialplan goes on.
httapi itself shows as CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE with response ``_none_``.

One difference: FreeSWITCH sends the final ``exiting=true`` request from the channel's reporting
state, at hangup; this step sends it when the application ends (or when the call is hung up
during it), which is all the suite needs to tell an abandoned caller from a queued one.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import urllib.error
import urllib.request
import uuid as uuid_module
from collections.abc import Mapping
from typing import TYPE_CHECKING

from apps.ivr.fs_emulator import (
    CallerScript,
    DocumentResult,
    HttapiProfile,
    HttapiRequest,
    HttapiSession,
    caller_fields,
    short_wav,
)

from .switch import playback_headers

if TYPE_CHECKING:
    from .dialplan import CallSession

logger = logging.getLogger(__name__)
_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


class Httapi:
    """Dialplan step running ``httapi <data>`` against an HTTP server (the suite)."""

    def __init__(
        self,
        data: str = "",
        *,
        profile: HttapiProfile | None = None,
        username: str = "",
        password: str = "",
        variables: Mapping[str, str] | None = None,
        timeout: float = 5.0,
        hostname: str = "sim1",
        input_timeout_scale: float = 1.0,
    ) -> None:
        self.data = data
        self.profile = profile or HttapiProfile(method="POST")
        self.credentials = (username, password) if username else None
        self.variables = dict(variables or {})
        self.timeout = timeout
        self.hostname = hostname
        # Unanswered prompts wait their input-timeout times this (0 = not at all).
        self.input_timeout_scale = input_timeout_scale

    def _expand(self, call: CallSession, text: str) -> str:
        # ${name}: a channel variable, else a global one (as switch_channel_expand_variables).
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            return call.get_var(name) or self.variables.get(name, "")

        return _VARIABLE.sub(value, text)

    def fetch(self, request: HttapiRequest) -> tuple[int, str, bytes]:
        """Send one request as mod_httapi's curl handle does; (0, "", b"") when it fails."""
        headers = {"User-Agent": "mod_httapi/1.0", "Accept": "*/*", "Cookie": ""}
        if self.credentials is not None:
            token = base64.b64encode(":".join(self.credentials).encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        url = request.url
        data: bytes | None = None
        if request.files:
            boundary = uuid_module.uuid4().hex
            data = _multipart(request, boundary)
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif request.method == "POST":
            data = request.encoded().encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            url += ("&" if "?" in url else "?") + request.encoded()
        http_request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(http_request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, response.headers.get("Content-Type", ""), response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Content-Type", ""), error.read()
        except (urllib.error.URLError, TimeoutError, OSError):
            return 0, "", b""  # "Received HTTP response: 0."

    async def run(self, call: CallSession) -> None:
        """Run the application until a document ends it; the dialplan then goes on."""
        sw, ch = call.switch, call.channel
        data = self._expand(call, self.data)
        run = sw.app_start(ch, "httapi", data)
        session = HttapiSession(
            session_id=call.uuid,
            caller=_caller_fields(call),
            app_data=data,
            profile=self.profile,
            hostname=self.hostname,
        )
        script = CallerScript.from_keys(call.planned_digits)
        call.channel.planned_digits = ""
        try:
            while call.alive:
                request = session.next_request()
                status, content_type, body = await asyncio.to_thread(self.fetch, request)
                known = dict(session.channel_variables)
                result = session.handle_response(
                    status=status, content_type=content_type, body=body, script=script
                )
                for name, value in session.channel_variables.items():
                    if known.get(name) != value:
                        ch.set_var(name, value)
                await self._replay(call, result)
                if result.end != "next":
                    if result.end == "error":
                        logger.warning("httapi on %s: %s", call.uuid, result.reason)
                    break
        except asyncio.CancelledError:
            # The call went away mid-IVR: FreeSWITCH still sends the exiting request.
            exiting = session.exiting_request()
            asyncio.get_running_loop().run_in_executor(None, self.fetch, exiting)
            raise
        if ch.app is run:
            sw.app_complete(ch, run)
        await asyncio.to_thread(self.fetch, session.exiting_request())

    async def _replay(self, call: CallSession, result: DocumentResult) -> None:
        sw, ch = call.switch, call.channel
        for action in result.actions:
            if not call.alive:
                return
            if action.tag in ("playback", "speak", "say", "vmName"):
                sw.emit("PLAYBACK_START", ch, post=playback_headers(action.detail))
                await asyncio.sleep(min(sw.config.playback_seconds, 0.2))
                status = "break" if action.collected else "done"
                sw.emit(
                    "PLAYBACK_STOP",
                    ch,
                    post=(*playback_headers(action.detail), ("Playback-Status", status)),
                )
                if action.collected and not action.collected.startswith("say:"):
                    sw.receive_dtmf(ch, action.collected)
                if action.waited_ms and self.input_timeout_scale > 0:
                    await asyncio.sleep(action.waited_ms / 1000 * self.input_timeout_scale)
            elif action.tag == "pause":
                await asyncio.sleep(min(int(action.detail or 0) / 1000, 0.5))
        if result.end == "hangup" and call.alive:
            await call.hangup(result.hangup_cause or "NORMAL_CLEARING")


def _caller_fields(call: CallSession) -> list[tuple[str, str]]:
    """Return the channel's Caller-* fields as mod_httapi posts them (the caller profile's)."""
    profile = [
        (name, value)
        for name, value in call.channel.profile_block().items()
        if name.startswith("Caller-")
    ]
    return profile or caller_fields(
        uuid=call.uuid, caller_number=call.caller_number, destination=call.destination
    )


def _multipart(request: HttapiRequest, boundary: str) -> bytes:
    """Encode fields and attached recordings as curl's form post does."""
    parts: list[bytes] = []
    for name, value in request.fields:
        header = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{header}{value}\r\n".encode())
    for name, (filename, content) in request.files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: audio/wav\r\n\r\n'.encode()
            + (content or short_wav())
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)
