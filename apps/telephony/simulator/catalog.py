"""Constants taken from the FreeSWITCH 1.10.12 captures in ``shared/fixtures/esl``.

Every value here was read off the byte-exact transcripts (``*.raw``): the source location
FreeSWITCH stamps on each event type (``Event-Calling-*``), the state numbering, the fixed
texts of ``version``/``status``/``sofia status``, the disconnect notices and the usage strings.
"""

from __future__ import annotations

VERSION_FULL = "1.10.12-release+git~20240802T210227Z~a88d069d6f~64bit"
VERSION_REPLY = (
    "FreeSWITCH Version 1.10.12-release+git~20240802T210227Z~a88d069d6f~64bit "
    "(git a88d069 2024-08-02 21:02:27Z 64bit)"
)
VERSION_STATUS = (
    "FreeSWITCH (Version 1.10.12-release git a88d069 2024-08-02 21:02:27Z 64bit) is ready"
)

GOODBYE = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
SHUTDOWN_NOTICE = "The system is being shut down.\n"

ORIGINATE_USAGE = (
    "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "
    "[<cid_name>] [<cid_num>] [<timeout_sec>]\n"
)

# (Event-Calling-File, Event-Calling-Function, Event-Calling-Line-Number) per event, as captured.
CALLING: dict[str, tuple[str, str, str]] = {
    "API": ("switch_loadable_module.c", "switch_api_execute", "2954"),
    "BACKGROUND_JOB": ("mod_event_socket.c", "api_exec", "1572"),
    "CALL_UPDATE": ("mod_sofia.c", "sofia_receive_message", "2100"),
    "CALL_UPDATE/flip": ("switch_channel.c", "switch_channel_flip_cid", "3277"),
    "CHANNEL_ANSWER": ("switch_channel.c", "switch_channel_perform_mark_answered", "3846"),
    "CHANNEL_BRIDGE": ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", "1689"),
    "CHANNEL_CALLSTATE": ("switch_channel.c", "switch_channel_perform_set_callstate", "301"),
    "CHANNEL_CREATE": ("switch_core_state_machine.c", "switch_core_session_run", "626"),
    "CHANNEL_DESTROY": ("switch_core_session.c", "switch_core_session_perform_destroy", "1584"),
    "CHANNEL_EXECUTE": ("switch_core_session.c", "switch_core_session_exec", "2944"),
    "CHANNEL_EXECUTE/uuid_bridge": ("switch_ivr_bridge.c", "uuid_bridge_on_soft_execute", "1236"),
    "CHANNEL_EXECUTE_COMPLETE": ("switch_core_session.c", "switch_core_session_exec", "2967"),
    "CHANNEL_HANGUP": ("switch_channel.c", "switch_channel_perform_hangup", "3445"),
    "CHANNEL_HANGUP_COMPLETE": (
        "switch_core_state_machine.c",
        "switch_core_session_reporting_state",
        "943",
    ),
    "CHANNEL_HOLD": ("switch_ivr.c", "switch_ivr_hold", "1558"),
    "CHANNEL_ORIGINATE": ("switch_core_state_machine.c", "switch_core_session_run", "632"),
    "CHANNEL_OUTGOING": (
        "switch_core_session.c",
        "switch_core_session_outgoing_channel",
        "768",
    ),
    "CHANNEL_PARK": ("switch_ivr.c", "switch_ivr_park", "1002"),
    "CHANNEL_PROGRESS": (
        "switch_channel.c",
        "switch_channel_perform_mark_ring_ready_value",
        "3505",
    ),
    "CHANNEL_PROGRESS_MEDIA": (
        "switch_channel.c",
        "switch_channel_perform_mark_pre_answered",
        "3560",
    ),
    "CHANNEL_STATE": ("switch_channel.c", "switch_channel_perform_set_running_state", "2408"),
    "CHANNEL_UNBRIDGE": ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", "1879"),
    "CHANNEL_UNHOLD": ("switch_ivr.c", "switch_ivr_unhold", "1638"),
    "CHANNEL_UNPARK": ("switch_ivr.c", "switch_ivr_park", "1213"),
    "CUSTOM/sofia::register": ("sofia_reg.c", "sofia_reg_handle_register_token", "2059"),
    "CUSTOM/sofia::unregister": ("sofia_reg.c", "sofia_reg_handle_register_token", "2213"),
    "CUSTOM": ("mod_event_socket.c", "parse_command", "1996"),
    "DTMF": ("switch_channel.c", "switch_channel_dequeue_dtmf", "677"),
    "HEARTBEAT": ("switch_core.c", "send_heartbeat", "95"),
    "MEDIA_BUG_START": ("switch_core_media_bug.c", "switch_core_media_bug_add", "1014"),
    "MEDIA_BUG_STOP": ("switch_core_media_bug.c", "switch_core_media_bug_destroy", "84"),
    "PLAYBACK_START": ("switch_ivr_play_say.c", "switch_ivr_play_file", "1646"),
    "PLAYBACK_STOP": ("switch_ivr_play_say.c", "switch_ivr_play_file", "2020"),
    "RECORD_START": ("switch_ivr_async.c", "record_callback", "1481"),
    "RECORD_STOP": ("switch_ivr_async.c", "send_record_stop_event", "1240"),
    "SHUTDOWN": ("switch_core.c", "switch_core_destroy", "3023"),
}

STATE_NUMBER: dict[str, int] = {
    "CS_NEW": 0,
    "CS_INIT": 1,
    "CS_ROUTING": 2,
    "CS_SOFT_EXECUTE": 3,
    "CS_EXECUTE": 4,
    "CS_EXCHANGE_MEDIA": 5,
    "CS_PARK": 6,
    "CS_CONSUME_MEDIA": 7,
    "CS_HIBERNATE": 8,
    "CS_RESET": 9,
    "CS_HANGUP": 10,
    "CS_REPORTING": 11,
    "CS_DESTROY": 12,
    "CS_NONE": 13,
}

# Q.850 codes FreeSWITCH reports in variable_hangup_cause_q850 (switch_channel.c CAUSE_CHART).
Q850: dict[str, int] = {
    "UNSPECIFIED": 0,
    "UNALLOCATED_NUMBER": 1,
    "NO_ROUTE_DESTINATION": 3,
    "NORMAL_CLEARING": 16,
    "USER_BUSY": 17,
    "NO_USER_RESPONSE": 18,
    "NO_ANSWER": 19,
    "SUBSCRIBER_ABSENT": 20,
    "CALL_REJECTED": 21,
    "NUMBER_CHANGED": 22,
    "DESTINATION_OUT_OF_ORDER": 27,
    "INVALID_NUMBER_FORMAT": 28,
    "FACILITY_REJECTED": 29,
    "NORMAL_UNSPECIFIED": 31,
    "NORMAL_CIRCUIT_CONGESTION": 34,
    "NETWORK_OUT_OF_ORDER": 38,
    "NORMAL_TEMPORARY_FAILURE": 41,
    "SWITCH_CONGESTION": 42,
    "REQUESTED_CHAN_UNAVAIL": 44,
    "BEARERCAPABILITY_NOTAVAIL": 58,
    "INCOMPATIBLE_DESTINATION": 88,
    "RECOVERY_ON_TIMER_EXPIRE": 102,
    "ORIGINATOR_CANCEL": 487,
    "SUCCESS": 142,
    "CHAN_NOT_IMPLEMENTED": 66,
    "SYSTEM_SHUTDOWN": 701,
    "LOSE_RACE": 702,
    "MANAGER_REQUEST": 703,
    "BLIND_TRANSFER": 800,
    "ATTENDED_TRANSFER": 801,
    "ALLOTTED_TIMEOUT": 802,
    "PICKED_OFF": 805,
    "USER_NOT_REGISTERED": 806,
}

# What the caller's switch_ivr_originate reports (DIALSTATUS) for a failed leg.
DIALSTATUS: dict[str, str] = {
    "NO_ANSWER": "NOANSWER",
    "USER_BUSY": "BUSY",
    "CALL_REJECTED": "BUSY",
    "USER_NOT_REGISTERED": "CHANUNAVAIL",
    "SUBSCRIBER_ABSENT": "CHANUNAVAIL",
    "ORIGINATOR_CANCEL": "CANCEL",
    "NORMAL_TEMPORARY_FAILURE": "CHANUNAVAIL",
}

# The ``show channels`` / ``show calls`` column order of FreeSWITCH's core database.
CHANNEL_COLUMNS = (
    "uuid",
    "direction",
    "created",
    "created_epoch",
    "name",
    "state",
    "cid_name",
    "cid_num",
    "ip_addr",
    "dest",
    "application",
    "application_data",
    "dialplan",
    "context",
    "read_codec",
    "read_rate",
    "read_bit_rate",
    "write_codec",
    "write_rate",
    "write_bit_rate",
    "secure",
    "hostname",
    "presence_id",
    "presence_data",
    "accountcode",
    "callstate",
    "callee_name",
    "callee_num",
    "callee_direction",
    "call_uuid",
    "sent_callee_name",
    "sent_callee_num",
    "initial_cid_name",
    "initial_cid_num",
    "initial_ip_addr",
    "initial_dest",
    "initial_dialplan",
    "initial_context",
)
CALL_LEG_COLUMNS = (
    "uuid",
    "direction",
    "created",
    "created_epoch",
    "name",
    "state",
    "cid_name",
    "cid_num",
    "ip_addr",
    "dest",
    "presence_id",
    "presence_data",
    "accountcode",
    "callstate",
    "callee_name",
    "callee_num",
    "callee_direction",
    "call_uuid",
    "hostname",
    "sent_callee_name",
    "sent_callee_num",
)
CALL_B_COLUMNS = (
    "uuid",
    "direction",
    "created",
    "created_epoch",
    "name",
    "state",
    "cid_name",
    "cid_num",
    "ip_addr",
    "dest",
    "presence_id",
    "presence_data",
    "accountcode",
    "callstate",
    "callee_name",
    "callee_num",
    "callee_direction",
    "sent_callee_name",
    "sent_callee_num",
)
REGISTRATION_COLUMNS = (
    "reg_user",
    "realm",
    "token",
    "url",
    "expires",
    "network_ip",
    "network_port",
    "network_proto",
    "hostname",
    "metadata",
)

SOFIA_STATUS = (
    "                     Name\t   Type\t                                      Data\tState\n"
    "================================================================================"
    "=================\n"
    "                {ip}\t  alias\t                                  internal\tALIASED\n"
    "                 external\tprofile\t              sip:mod_sofia@{ip}:5080\tRUNNING (0)\n"
    "                 internal\tprofile\t"
    "              sip:mod_sofia@{ip}:{port}\tRUNNING ({calls})\n"
    "================================================================================"
    "=================\n"
    "2 profiles 1 alias\n"
)

# `sofia status profile internal` as captured, with the counters filled in.
SOFIA_PROFILE_INTERNAL = (
    "================================================================================"
    "=================\n"
    "Name             \tinternal\n"
    "Domain Name      \tN/A\n"
    "Auto-NAT         \tfalse\n"
    "DBName           \tsofia_reg_internal\n"
    "Pres Hosts       \t{ip},{ip}\n"
    "Dialplan         \tXML\n"
    "Context          \tdefault\n"
    "Challenge Realm  \tauto_from\n"
    "RTP-IP           \t{ip}\n"
    "Ext-RTP-IP       \t{ip}\n"
    "SIP-IP           \t{ip}\n"
    "Ext-SIP-IP       \t{ip}\n"
    "URL              \tsip:mod_sofia@{ip}:{port}\n"
    "BIND-URL         \tsip:mod_sofia@{ip}:{port};maddr={ip};transport=udp,tcp\n"
    "WS-BIND-URL     \tsip:mod_sofia@{ip}:5066;transport=ws\n"
    "WSS-BIND-URL     \tsips:mod_sofia@{ip}:7443;transport=wss\n"
    "HOLD-MUSIC       \t{hold_music}\n"
    "OUTBOUND-PROXY   \tN/A\n"
    "CODECS IN        \tOPUS,G722,PCMU,PCMA,H264,VP8\n"
    "CODECS OUT       \tOPUS,G722,PCMU,PCMA,H264,VP8\n"
    "TEL-EVENT        \t101\n"
    "DTMF-MODE        \trfc2833\n"
    "CNG              \t13\n"
    "SESSION-TO       \t0\n"
    "MAX-DIALOG       \t0\n"
    "MAX-RECV-RPS     \t1000\n"
    "NOMEDIA          \tfalse\n"
    "LATE-NEG         \ttrue\n"
    "PROXY-MEDIA      \tfalse\n"
    "AGGRESSIVENAT    \tfalse\n"
    "CALLS-IN         \t{calls_in}\n"
    "FAILED-CALLS-IN  \t{failed_in}\n"
    "CALLS-OUT        \t{calls_out}\n"
    "FAILED-CALLS-OUT \t{failed_out}\n"
    "REGISTRATIONS    \t{registrations}\n"
)

# switch_log.c level names, indexed by level number.
LOG_LEVELS = ("CONSOLE", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG")

# Events mod_event_socket's `myevents` subscribes to (mod_event_socket.c parse_command).
MYEVENTS = frozenset(
    {
        "CHANNEL_ANSWER",
        "CHANNEL_APPLICATION",
        "CHANNEL_BRIDGE",
        "CHANNEL_CREATE",
        "CHANNEL_DATA",
        "CHANNEL_DESTROY",
        "CHANNEL_EXECUTE",
        "CHANNEL_EXECUTE_COMPLETE",
        "CHANNEL_HANGUP",
        "CHANNEL_HANGUP_COMPLETE",
        "CHANNEL_ORIGINATE",
        "CHANNEL_UUID",
        "CHANNEL_OUTGOING",
        "CHANNEL_PARK",
        "CHANNEL_PROGRESS",
        "CHANNEL_PROGRESS_MEDIA",
        "CHANNEL_STATE",
        "CHANNEL_UNBRIDGE",
        "CHANNEL_UNPARK",
        "DETECTED_SPEECH",
        "DTMF",
        "NOTALK",
        "TALK",
    }
)

# switch_event.c EVENT_NAMES: every name `event`/`nixevent` accepts (ALL and CUSTOM included).
EVENT_NAMES = frozenset(
    [
        "CUSTOM",
        "CLONE",
        "CHANNEL_CREATE",
        "CHANNEL_DESTROY",
        "CHANNEL_STATE",
        "CHANNEL_CALLSTATE",
        "CHANNEL_ANSWER",
        "CHANNEL_HANGUP",
        "CHANNEL_HANGUP_COMPLETE",
        "CHANNEL_EXECUTE",
        "CHANNEL_EXECUTE_COMPLETE",
        "CHANNEL_HOLD",
        "CHANNEL_UNHOLD",
        "CHANNEL_BRIDGE",
        "CHANNEL_UNBRIDGE",
        "CHANNEL_PROGRESS",
        "CHANNEL_PROGRESS_MEDIA",
        "CHANNEL_OUTGOING",
        "CHANNEL_PARK",
        "CHANNEL_UNPARK",
        "CHANNEL_APPLICATION",
        "CHANNEL_ORIGINATE",
        "CHANNEL_UUID",
        "API",
        "LOG",
        "INBOUND_CHAN",
        "OUTBOUND_CHAN",
        "STARTUP",
        "SHUTDOWN",
        "PUBLISH",
        "UNPUBLISH",
        "TALK",
        "NOTALK",
        "SESSION_CRASH",
        "MODULE_LOAD",
        "MODULE_UNLOAD",
        "DTMF",
        "MESSAGE",
        "PRESENCE_IN",
        "NOTIFY_IN",
        "PRESENCE_OUT",
        "PRESENCE_PROBE",
        "MESSAGE_WAITING",
        "MESSAGE_QUERY",
        "ROSTER",
        "CODEC",
        "BACKGROUND_JOB",
        "DETECTED_SPEECH",
        "DETECTED_TONE",
        "PRIVATE_COMMAND",
        "HEARTBEAT",
        "TRAP",
        "ADD_SCHEDULE",
        "DEL_SCHEDULE",
        "EXE_SCHEDULE",
        "RE_SCHEDULE",
        "RELOADXML",
        "NOTIFY",
        "PHONE_FEATURE",
        "PHONE_FEATURE_SUBSCRIBE",
        "SEND_MESSAGE",
        "RECV_MESSAGE",
        "REQUEST_PARAMS",
        "CHANNEL_DATA",
        "GENERAL",
        "COMMAND",
        "SESSION_HEARTBEAT",
        "CLIENT_DISCONNECTED",
        "SERVER_DISCONNECTED",
        "SEND_INFO",
        "RECV_INFO",
        "RECV_RTCP_MESSAGE",
        "SEND_RTCP_MESSAGE",
        "CALL_SECURE",
        "NAT",
        "RECORD_START",
        "RECORD_STOP",
        "PLAYBACK_START",
        "PLAYBACK_STOP",
        "CALL_UPDATE",
        "FAILURE",
        "SOCKET_DATA",
        "MEDIA_BUG_START",
        "MEDIA_BUG_STOP",
        "CONFERENCE_DATA_QUERY",
        "CONFERENCE_DATA",
        "CALL_SETUP_REQ",
        "CALL_SETUP_RESULT",
        "CALL_DETAIL",
        "DEVICE_STATE",
        "TEXT",
        "SHUTDOWN_REQUESTED",
        "ALL",
    ]
)

# The vanilla configuration's directory: users 1000-1019 exist (default password).
VANILLA_USERS = frozenset(str(number) for number in range(1000, 1020))
