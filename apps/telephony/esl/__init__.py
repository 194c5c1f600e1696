"""FreeSWITCH Event Socket (ESL) client layer, independent of Django.

Layers, each usable on its own:

* ``frames``     -- incremental byte-level framing (``FrameParser``).
* ``messages``   -- typed messages and ``Event`` decoding (plain, json, xml).
* ``errors``     -- typed errors, including ``CommandError`` subclasses per FreeSWITCH reply.
* ``connection`` -- ``ESLConnection``: gevent inbound connection with auth, api/bgapi,
  subscriptions, reconnect with backoff and a HEARTBEAT watchdog.
* ``commands``   -- ``FreeSwitchClient``: typed call-control commands over a connection.

This package must not import Django or other apps (see docs, "inter-app contracts").

Typical use from a gevent process (all calls from greenlets of the hub that created it)::

    events = gevent.queue.Queue(maxsize=50_000)       # sized for bursts; full -> drops, logged
    connection = ESLConnection(
        ConnectionConfig(host="127.0.0.1", port=8021, password=secret),
        events=["ALL"],                                 # or names / "CUSTOM callcenter::info"
        event_queue=events,
        on_up=lambda: ..., on_down=lambda reason: ...,
        on_connected=lambda conn: ...,                  # resync here (show channels, ...)
    )
    connection.start()                                  # background connect + reconnect
    client = FreeSwitchClient(connection)
    uuid = client.originate(destination="user/1000", application="park", timeout=30)
    event = events.get()                                # Event: .name, .unique_id, .sequence ...
"""

from .commands import (
    ConsultCall,
    EavesdropMode,
    FreeSwitchClient,
    HoldAction,
    Leg,
    RecordAction,
    TransferLeg,
    render_channel_variables,
)
from .connection import ConnectionConfig, ConnectionStats, ESLConnection, EventQueue
from .errors import (
    AuthenticationError,
    CallFailed,
    CallRejected,
    ChannelNotImplemented,
    CommandError,
    CommandNotFound,
    CommandTimeout,
    ConnectionLost,
    ESLError,
    MessageDecodeError,
    NoAnswer,
    NoSuchChannel,
    NotConnected,
    ProtocolError,
    SubscriberAbsent,
    TemporaryFailure,
    TruncatedFrame,
    UsageError,
    UserBusy,
    UserNotRegistered,
    error_from_reply,
    is_error_reply,
)
from .frames import Frame, FrameParser
from .messages import (
    ApiResponse,
    AuthRequest,
    CommandReply,
    DisconnectNotice,
    Event,
    LogData,
    Message,
    RudeRejection,
    UnknownMessage,
    decode_frame,
    parse_json_event,
    parse_plain_event,
    parse_xml_event,
)

__all__ = [
    "ApiResponse",
    "AuthRequest",
    "AuthenticationError",
    "CallFailed",
    "CallRejected",
    "ChannelNotImplemented",
    "CommandError",
    "CommandNotFound",
    "CommandReply",
    "CommandTimeout",
    "ConnectionConfig",
    "ConnectionLost",
    "ConnectionStats",
    "ConsultCall",
    "DisconnectNotice",
    "ESLConnection",
    "ESLError",
    "EavesdropMode",
    "Event",
    "EventQueue",
    "Frame",
    "FrameParser",
    "FreeSwitchClient",
    "HoldAction",
    "Leg",
    "LogData",
    "Message",
    "MessageDecodeError",
    "NoAnswer",
    "NoSuchChannel",
    "NotConnected",
    "ProtocolError",
    "RecordAction",
    "RudeRejection",
    "SubscriberAbsent",
    "TemporaryFailure",
    "TransferLeg",
    "TruncatedFrame",
    "UnknownMessage",
    "UsageError",
    "UserBusy",
    "UserNotRegistered",
    "decode_frame",
    "error_from_reply",
    "is_error_reply",
    "parse_json_event",
    "parse_plain_event",
    "parse_xml_event",
    "render_channel_variables",
]
