"""FreeSWITCH Event Socket (ESL) client layer, independent of Django.

Layers, each usable on its own:

* ``frames``     -- incremental byte-level framing (``FrameParser``).
* ``messages``   -- typed messages and ``Event`` decoding (plain, json, xml).
* ``errors``     -- typed errors, including ``CommandError`` subclasses per FreeSWITCH reply.
* ``connection`` -- ``ESLConnection``: gevent inbound connection with auth, api/bgapi,
  subscriptions, reconnect with backoff and a HEARTBEAT watchdog.
* ``commands``   -- ``FreeSwitchClient``: typed call-control commands over a connection.

This package must not import Django or other apps (see docs, "inter-app contracts").
"""

from .commands import (
    ConsultCall,
    EavesdropMode,
    FreeSwitchClient,
    HoldAction,
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
