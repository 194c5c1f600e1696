"""Configuration of a simulated FreeSWITCH."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from .catalog import VANILLA_USERS

# FreeSWITCH's well-known default ESL password (event_socket.conf.xml), for tests and dev.
DEFAULT_PASSWORD = "ClueCon"  # noqa: S105


@dataclass
class SimulatorConfig:
    """Everything a :class:`~.switch.Switch` and its ESL server need to know.

    Durations are seconds (floats, so tests can use milliseconds). ``port=0`` binds a free
    port. The identity defaults (``hostname``, addresses) are the simulator's own; the
    captures' machine was called ``vm``.
    """

    host: str = "127.0.0.1"
    port: int = 8021
    password: str = DEFAULT_PASSWORD
    heartbeat_interval: float = 20.0
    hostname: str = "fs-sim"
    core_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    ipv4: str = "127.0.0.1"
    ipv6: str = "::1"
    # The SIP side FreeSWITCH pretends to have: its address/port and the global `domain`.
    sip_ip: str = "127.0.0.1"
    sip_port: int = 5060
    domain: str = "127.0.0.1"
    # Where inbound calls come from (the carrier / SBC).
    caller_host: str = "127.0.0.1"
    caller_port: int = 5080
    caller_acl: str = "domains"
    directory_users: frozenset[str] = VANILLA_USERS
    # Default behaviour of endpoints registered without explicit timings.
    endpoint_answer_after: float = 1.0
    # How long a `playback` (IVR prompt, hold music cycle, uuid_broadcast) lasts.
    playback_seconds: float = 1.0
    hold_music: str = "tone_stream://%(250,4750,440)"
    recordings_dir: str = "/var/lib/freeswitch/recordings"
    # originate's default [<timeout_sec>] and the bridge app's call_timeout default.
    originate_timeout: float = 60.0
    max_sessions: int = 1000
    # Deliver each API event after the command's own events, with the Event-Sequence it
    # was created with (FreeSWITCH's real order, README point 7). Off: strictly increasing.
    late_api_events: bool = False
    # A client that stops reading: events queued for it before new ones are dropped, and
    # drops in a row before it is disconnected (mod_event_socket MAX_QUEUE_LEN/MAX_MISSED).
    client_queue_limit: int = 100_000
    client_max_missed: int = 500
    first_event_sequence: int = 1
