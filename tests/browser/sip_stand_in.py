"""A stand-in for FreeSWITCH's SIP-over-WebSocket side, enough to test the browser softphone.

It answers REGISTER with a digest challenge (401) and then 200 OK when the credentials are
right, sends an INVITE whose SDP is the one a real FreeSWITCH 1.10.12 sent to JsSIP (from
shared/fixtures/webrtc), ACKs the browser's 200 OK, answers its BYE, and records every message.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "webrtc"
REALM = "127.0.0.1"


def freeswitch_offer_sdp() -> str:
    """Return the SDP of FreeSWITCH's INVITE to the browser in the recorded probe."""
    frames = (FIXTURES / "recommended" / "ws-sip-frames.txt").read_text()
    invite = frames.split("=== [incoming call]", 1)[1].split("===", 2)[1]
    _head, body = invite.split("\n\n", 1)
    return body.strip().replace("\n", "\r\n") + "\r\n"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324  (SIP digest is MD5)


@dataclass
class SipMessage:
    start: str
    headers: list[tuple[str, str]]
    body: str = ""

    @classmethod
    def parse(cls, raw: str) -> SipMessage:
        head, _sep, body = raw.partition("\r\n\r\n")
        lines = head.split("\r\n")
        headers = []
        for line in lines[1:]:
            name, _colon, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        return cls(lines[0], headers, body)

    def header(self, name: str) -> str:
        return next((value for key, value in self.headers if key.lower() == name.lower()), "")

    @property
    def method(self) -> str:
        return "" if self.start.startswith("SIP/2.0") else self.start.split(" ", 1)[0]

    @property
    def status(self) -> int:
        return int(self.start.split(" ")[1]) if self.start.startswith("SIP/2.0") else 0


def _render(start: str, headers: list[tuple[str, str]], body: str = "") -> str:
    lines = [start, *(f"{name}: {value}" for name, value in headers)]
    lines.append(f"Content-Length: {len(body.encode())}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


@dataclass
class SipStandIn:
    """Run with ``start()``; ``url`` is the ws:// address to give the softphone."""

    password: str
    received: list[SipMessage] = field(default_factory=list)
    port: int = 0
    contact: str = ""
    registrations: int = 0

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._socket = None
        self._nonce = uuid.uuid4().hex
        self._invite: SipMessage | None = None
        self._changed = threading.Condition()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._serve(ready))
            self._loop.run_forever()

        threading.Thread(target=run, name="sip-stand-in", daemon=True).start()
        ready.wait(10)

    async def _serve(self, ready: threading.Event) -> None:
        import websockets

        self._server = await websockets.serve(self._handle, "127.0.0.1", 0, subprotocols=["sip"])
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        ready.set()

    def stop(self) -> None:
        async def close() -> None:
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def wait_for(self, predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
        """Block until ``predicate(self)`` holds after a message (False on timeout)."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    # ------------------------------------------------------------------ protocol

    async def _handle(self, websocket) -> None:  # type: ignore[no-untyped-def]
        self._socket = websocket
        async for raw in websocket:
            message = SipMessage.parse(raw)
            with self._changed:
                self.received.append(message)
            reply = self._reply(message)
            if reply:
                await websocket.send(reply)
            with self._changed:
                self._changed.notify_all()

    def _response(self, message: SipMessage, code: str, extra=(), body: str = "") -> str:  # type: ignore[no-untyped-def]
        to = message.header("To")
        if "tag=" not in to:
            to += f";tag={uuid.uuid4().hex[:10]}"
        headers = [
            ("Via", message.header("Via") + ";received=127.0.0.1"),
            ("From", message.header("From")),
            ("To", to),
            ("Call-ID", message.header("Call-ID")),
            ("CSeq", message.header("CSeq")),
            *extra,
        ]
        return _render(f"SIP/2.0 {code}", headers, body)

    def _reply(self, message: SipMessage) -> str:
        if message.method == "REGISTER":
            authorization = message.header("Authorization")
            if not authorization or not self._digest_ok(authorization):
                challenge = (
                    f'Digest realm="{REALM}", nonce="{self._nonce}", algorithm=MD5, qop="auth"'
                )
                return self._response(
                    message, "401 Unauthorized", [("WWW-Authenticate", challenge)]
                )
            self.registrations += 1
            self.contact = re.sub(r";expires=\d+$", "", message.header("Contact"))
            return self._response(message, "200 OK", [("Contact", f"{self.contact};expires=300")])
        if message.method == "BYE":
            return self._response(message, "200 OK")
        if message.status == 200 and "INVITE" in message.header("CSeq") and self._invite:
            return self._ack(message)
        return ""

    def _digest_ok(self, authorization: str) -> bool:
        fields = dict(re.findall(r'(\w+)="?([^",]+)"?', authorization))
        ha1 = _md5(f"{fields.get('username')}:{REALM}:{self.password}")
        ha2 = _md5(f"REGISTER:{fields.get('uri')}")
        expected = _md5(
            f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:{fields.get('cnonce')}:"
            f"{fields.get('qop')}:{ha2}"
        )
        return fields.get("response") == expected

    def _ack(self, ok: SipMessage) -> str:
        cseq = ok.header("CSeq").split(" ")[0]
        return _render(
            f"ACK {self._contact_uri()} SIP/2.0",
            [
                ("Via", f"SIP/2.0/WS 127.0.0.1:{self.port};branch=z9hG4bK{uuid.uuid4().hex[:12]}"),
                ("Max-Forwards", "70"),
                ("From", ok.header("From")),
                ("To", ok.header("To")),
                ("Call-ID", ok.header("Call-ID")),
                ("CSeq", f"{cseq} ACK"),
            ],
        )

    def _contact_uri(self) -> str:
        match = re.search(r"<([^>]+)>", self.contact)
        return match.group(1) if match else self.contact

    def send_invite(self, *, caller: str = "5555", display: str = "Customer") -> None:
        """Ring the registered softphone as FreeSWITCH does for an originate to the agent."""
        uri = self._contact_uri()
        invite = _render(
            f"INVITE {uri} SIP/2.0",
            [
                ("Via", f"SIP/2.0/WS 127.0.0.1:{self.port};branch=z9hG4bK{uuid.uuid4().hex[:12]}"),
                ("Max-Forwards", "70"),
                ("From", f'"{display}" <sip:{caller}@127.0.0.1>;tag={uuid.uuid4().hex[:12]}'),
                ("To", f"<{uri}>"),
                ("Call-ID", str(uuid.uuid4())),
                ("CSeq", "123101103 INVITE"),
                ("Contact", "<sip:mod_sofia@127.0.0.1:5060>"),
                (
                    "Allow",
                    "INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, REFER, NOTIFY",
                ),
                ("Supported", "timer, path, replaces"),
                ("Content-Type", "application/sdp"),
                ("Content-Disposition", "session"),
            ],
            freeswitch_offer_sdp(),
        )
        self._invite = SipMessage.parse(invite)
        asyncio.run_coroutine_threadsafe(self._socket.send(invite), self._loop).result(5)

    def of(self, method: str = "", status: int = 0) -> list[SipMessage]:
        """Return the messages received of a method (requests) or status (responses)."""
        return [
            message
            for message in list(self.received)
            if (method and message.method == method) or (status and message.status == status)
        ]
