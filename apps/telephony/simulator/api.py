"""The ``api``/``bgapi`` commands of the simulated FreeSWITCH (mod_commands, mod_sofia).

Each command returns its reply body exactly as FreeSWITCH writes it (some end in a newline,
some do not — see the ESL README point 9), or a coroutine for commands that take time
(``originate`` waits for the answer like FreeSWITCH's does).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from .catalog import (
    CALL_B_COLUMNS,
    CALL_LEG_COLUMNS,
    CHANNEL_COLUMNS,
    ORIGINATE_USAGE,
    REGISTRATION_COLUMNS,
    SOFIA_PROFILE_INTERNAL,
    SOFIA_STATUS,
    STATE_NUMBER,
    VERSION_REPLY,
    VERSION_STATUS,
)
from .dialplan import Execute, parse_application, ring
from .rendering import render_json, render_plain
from .switch import OriginateError

if TYPE_CHECKING:
    from .channel import Channel
    from .switch import Switch

Reply = str | Awaitable[str]
Handler = Callable[["Switch", str], Reply]

NO_SUCH_CHANNEL = "-ERR No such channel!\n"


def execute(switch: Switch, command: str, args: str) -> Reply | None:
    """Run api ``command`` with ``args``; None when the command does not exist."""
    handler = COMMANDS.get(command)
    if handler is None:
        return None
    return handler(switch, args)


# --------------------------------------------------------------------- core commands
def _version(sw: Switch, args: str) -> str:
    return VERSION_REPLY + "\n"


def _status(sw: Switch, args: str) -> str:
    count = len(sw.channels)
    return (
        f"UP {sw.uptime_text()}\n"
        f"{VERSION_STATUS}\n"
        f"{sw.sessions_since_startup} session(s) since startup\n"
        f"{count} session(s) - peak {sw.session_peak}, last 5min {sw.session_peak} \n"
        f"0 session(s) per Sec out of max 30, peak 0, last 5min 0 \n"
        f"{sw.config.max_sessions} session(s) max\n"
        "min idle cpu 0.00/98.00\n"
        "Current Stack Size/Max 240K/8192K\n"
    )


def _hostname(sw: Switch, args: str) -> str:
    return sw.config.hostname


def _global_getvar(sw: Switch, args: str) -> str:
    name = args.strip()
    if name:
        return sw.global_vars.get(name, "")
    return "".join(f"{key}={value}\n" for key, value in sw.global_vars.items())


def _global_setvar(sw: Switch, args: str) -> str:
    name, sep, value = args.strip().partition("=")
    if not sep or not name:
        return "-USAGE: <var>=<value>\n"
    sw.global_vars[name.strip()] = value
    return "+OK\n"


def _user_exists(sw: Switch, args: str) -> str:
    parts = args.split()
    if len(parts) < 3:
        return "-USAGE: <key> <user> <domain>\n"
    key, user, domain = parts[:3]
    found = key == "id" and domain == sw.config.domain and sw.directory.exists(user)
    return "true" if found else "false"


def _echo(sw: Switch, args: str) -> str:
    return args


def _create_uuid(sw: Switch, args: str) -> str:
    return sw.new_uuid()


def _hupall(sw: Switch, args: str) -> str:
    parts = args.split()
    cause = parts[0] if parts else "MANAGER_REQUEST"
    if len(parts) >= 3:
        var, value = parts[1], parts[2]
        for channel in list(sw.channels.values()):
            if channel.vars.get(var) == value:
                sw.hangup(channel, cause)
        return f"+OK hangup all channels matching [{var}]=[{value}] with cause: {cause}\n"
    sw.hangup_all(cause)
    return f"+OK hangup all channels with cause {cause}\n"


def _fsctl(sw: Switch, args: str) -> str:
    parts = args.split()
    if parts and parts[0] == "shutdown":
        # Reply first (the caller gets "+OK"), then the notice to every client.
        sw.loop.call_soon(_shutdown, sw)
    return "+OK\n"


def _shutdown(sw: Switch) -> None:
    for callback in list(sw.on_shutdown):
        callback()


# --------------------------------------------------------------------- show
SHOW_USAGE = (
    "-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|"
    "channels [count|like <match string>]|calls|detailed_calls|bridged_calls|"
    "detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|"
    "interfaces|interface_types|tasks|limits|status\n"
)


def _show(sw: Switch, args: str) -> str:
    parts = args.split()
    if not parts:
        return SHOW_USAGE
    table = _show_table(sw, parts[0])
    if table is None:
        return f"-ERR Invalid {parts[0]}\n"
    columns, rows = table
    as_json = "as" in parts and parts[parts.index("as") + 1 : parts.index("as") + 2] == ["json"]
    if len(parts) > 1 and parts[1] == "count":
        return json.dumps({"row_count": len(rows)}) + "\n" if as_json else f"{len(rows)} total.\n"
    return _format_rows(columns, rows, as_json=as_json)


def _format_rows(columns: tuple[str, ...], rows: list[tuple[str, ...]], *, as_json: bool) -> str:
    """Format a table like FreeSWITCH's ``show``: json (compact) or comma-separated text."""
    if as_json:
        if not rows:
            return '{"row_count": 0}\n'
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        return json.dumps(
            {"row_count": len(rows), "rows": records}, separators=(",", ":"), ensure_ascii=False
        )
    if not rows:
        return "\n0 total.\n"
    lines = [",".join(columns), *(",".join(row) for row in rows)]
    return "\n".join(lines) + f"\n\n{len(rows)} total.\n"


def _show_table(sw: Switch, what: str) -> tuple[tuple[str, ...], list[tuple[str, ...]]] | None:
    if what == "channels":
        return CHANNEL_COLUMNS, [_channel_row(sw, ch) for ch in _ordered(sw)]
    if what == "calls":
        return _calls(sw)
    if what == "registrations":
        rows = [
            (
                endpoint.user,
                endpoint.domain,
                endpoint.call_id,
                endpoint.contact_url,
                str(int(endpoint.registered_at) + endpoint.expires),
                endpoint.contact_host,
                str(endpoint.contact_port),
                "udp",
                sw.config.hostname,
                "",
            )
            for endpoint in sw.directory.registrations.values()
        ]
        return REGISTRATION_COLUMNS, rows
    return None


def _ordered(sw: Switch) -> list[Channel]:
    return sorted(sw.channels.values(), key=lambda ch: ch.times.created)


def _channel_row(sw: Switch, ch: Channel) -> tuple[str, ...]:
    profile, initial = ch.profile, ch.initial_profile
    created = ch.times.created // 1_000_000
    app = ch.app or (ch.overlays[-1] if ch.overlays else None)
    media = ("PCMA", "8000", "64000") if ch.media else ("", "", "")
    return (
        ch.uuid,
        ch.direction,
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(created)),
        str(created),
        ch.name,
        ch.state,
        profile.caller_id_name,
        profile.caller_id_number,
        profile.network_addr,
        profile.destination_number,
        app.name if app else "",
        (app.data or "") if app else "",
        profile.dialplan,
        profile.context,
        *media,
        *media,
        "",
        sw.config.hostname,
        ch.presence_id,
        "",
        "",
        ch.callstate,
        profile.callee_id_name,
        profile.callee_id_number,
        "SEND" if ch.partner is not None else ("RECV" if ch.direction == "outbound" else ""),
        ch.call_uuid,
        ch.vars.get("last_sent_callee_id_name", ""),
        ch.vars.get("last_sent_callee_id_number", ""),
        initial.caller_id_name,
        initial.caller_id_number,
        initial.network_addr,
        initial.destination_number,
        initial.dialplan,
        initial.context,
    )


def _calls(sw: Switch) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    columns = CALL_LEG_COLUMNS + tuple(f"b_{name}" for name in CALL_B_COLUMNS)
    columns += ("call_created_epoch",)
    rows: list[tuple[str, ...]] = []
    channels = _ordered(sw)
    for ch in channels:
        if ch.call_uuid != ch.uuid:
            continue
        full = dict(zip(CHANNEL_COLUMNS, _channel_row(sw, ch), strict=True))
        row = tuple(full[name] for name in CALL_LEG_COLUMNS)
        other = next((leg for leg in channels if leg is not ch and leg.call_uuid == ch.uuid), None)
        if other is not None:
            b = dict(zip(CHANNEL_COLUMNS, _channel_row(sw, other), strict=True))
            row += (*(b[name] for name in CALL_B_COLUMNS), full["created_epoch"])
        else:
            row += ("",) * (len(CALL_B_COLUMNS) + 1)
        rows.append(row)
    return columns, rows


# --------------------------------------------------------------------- sofia
def _sofia(sw: Switch, args: str) -> str:
    parts = args.split()
    config = sw.config
    values = {
        "ip": config.sip_ip,
        "port": config.sip_port,
        "calls": len(sw.channels),
        "hold_music": config.hold_music,
        "calls_in": sw.calls_in,
        "failed_in": sw.failed_in,
        "calls_out": sw.calls_out,
        "failed_out": sw.failed_out,
        "registrations": len(sw.directory.registrations),
    }
    if parts == ["status"]:
        return SOFIA_STATUS.format(**values)
    if parts[:3] == ["status", "profile", "internal"]:
        if parts[3:4] == ["reg"]:
            return _sofia_registrations(sw)
        return SOFIA_PROFILE_INTERNAL.format(**values)
    if parts[:2] == ["status", "profile"]:
        return "Invalid Profile!\n"
    return (
        "-ERR Usage: sofia [status|xmlstatus|profile|gateway|loglevel|tracelevel|global|help] ...\n"
    )


def _sofia_registrations(sw: Switch) -> str:
    lines = ["\nRegistrations:\n", "=" * 97 + "\n"]
    for endpoint in sw.directory.registrations.values():
        expires = int(endpoint.registered_at) + endpoint.expires
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(expires))
        lines += [
            f"Call-ID:    \t{endpoint.call_id}\n",
            f"User:       \t{endpoint.user}@{endpoint.domain}\n",
            f'Contact:    \t"{endpoint.display_name}" <sip:{endpoint.user}@'
            f"{endpoint.contact_host}:{endpoint.contact_port}>\n",
            f"Agent:      \t{endpoint.user_agent}\n",
            f"Status:     \tRegistered(UDP)(unknown) EXP({stamp}) EXPSECS({endpoint.expires})\n",
            "Ping-Status:\tReachable\n",
            "Ping-Time:\t0.00\n",
            f"Host:       \t{sw.config.hostname}\n",
            f"IP:         \t{endpoint.contact_host}\n",
            f"Port:       \t{endpoint.contact_port}\n",
            f"Auth-User:  \t{endpoint.user}\n",
            f"Auth-Realm: \t{endpoint.domain}\n",
            f"MWI-Account:\t{endpoint.user}@{endpoint.domain}\n\n",
        ]
    lines.append("=" * 97 + "\n")
    lines.append(f"Total items returned: {len(sw.directory.registrations)}\n")
    lines.append("=" * 97 + "\n")
    return "".join(lines)


# --------------------------------------------------------------------- originate
def _split_args(text: str) -> list[str]:
    """Split on spaces, keeping ``{...}``/``[...]`` blocks and quoted text together."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    quote = ""
    for ch in text.strip():
        if quote:
            if ch == quote:
                quote = ""
            else:
                current.append(ch)
            continue
        if ch in "'\"" and depth == 0:
            quote = ch
            continue
        if ch in "{[":
            depth += 1
        elif ch in "}]" and depth:
            depth -= 1
        if ch == " " and depth == 0:
            if current:
                parts.append("".join(current))
                current = []
            continue
        current.append(ch)
    if current:
        parts.append("".join(current))
    return parts


def _originate(sw: Switch, args: str) -> Reply:
    argv = [None if part == "undef" else part for part in _split_args(args)]
    if len(argv) < 2 or len(argv) > 7 or not argv[0] or not argv[1]:
        return ORIGINATE_USAGE
    dialstring, exten = argv[0], argv[1]
    dialplan = argv[2] or "XML" if len(argv) > 2 else "XML"
    context = argv[3] or "default" if len(argv) > 3 else "default"
    cid_name = argv[4] if len(argv) > 4 else None
    cid_num = argv[5] if len(argv) > 5 else None
    timeout_arg = argv[6] if len(argv) > 6 else None
    try:
        leg = sw.create_outbound(dialstring, cid_name=cid_name, cid_num=cid_num)
    except OriginateError as error:
        sw.failed_out += 1
        return f"-ERR {error.cause}\n"
    timeout = _seconds(leg.get_var("originate_timeout")) or _seconds(timeout_arg)
    return _originate_wait(
        sw, leg, exten=exten, dialplan=dialplan, context=context, timeout=timeout
    )


async def _originate_wait(
    sw: Switch,
    leg: Channel,
    *,
    exten: str,
    dialplan: str,
    context: str,
    timeout: float | None,
) -> str:
    outcome = await ring(sw, leg, None, timeout or sw.config.originate_timeout)
    if outcome != "ANSWER":
        sw.failed_out += 1
        return f"-ERR {outcome}\n"
    sw.flip_cid(leg)

    def begin() -> None:
        if not leg.alive or leg.hangup_cause:
            return
        if exten.startswith("&"):
            app, data = parse_application(exten)
            leg.state_number = STATE_NUMBER["CS_EXECUTE"]
            sw.emit_state(leg, "CS_EXECUTE")
            sw.start_session(leg, (Execute(app, data or None),))
        else:
            sw.transfer(leg, exten, dialplan, context)

    # The reply (or BACKGROUND_JOB) goes out before the leg starts its application.
    sw.loop.call_soon(begin)
    return f"+OK {leg.uuid}\n"


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


# --------------------------------------------------------------------- uuid_*
def _lookup(sw: Switch, uuid: str) -> Channel | None:
    channel = sw.find(uuid)
    if channel is None or not channel.alive or channel.hangup_cause:
        return None
    return channel


def _uuid_kill(sw: Switch, args: str) -> str:
    parts = args.split()
    if not parts:
        return "-USAGE: <uuid> [cause]\n"
    channel = _lookup(sw, parts[0])
    if channel is None:
        return NO_SUCH_CHANNEL
    sw.hangup(channel, parts[1] if len(parts) > 1 else "NORMAL_CLEARING")
    return "+OK\n"


def _uuid_exists(sw: Switch, args: str) -> str:
    return "true" if _lookup(sw, args.strip()) is not None else "false"


def _uuid_getvar(sw: Switch, args: str) -> str:
    parts = args.split()
    if len(parts) < 2:
        return "-USAGE: <uuid> <var> [<timeout>]\n"
    channel = _lookup(sw, parts[0])
    if channel is None:
        return NO_SUCH_CHANNEL
    value = channel.get_var(parts[1])
    return value if value is not None else "_undef_"


def _uuid_setvar(sw: Switch, args: str) -> str:
    parts = args.split(" ", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return "-USAGE: <uuid> <var> [value]\n"
    channel = _lookup(sw, parts[0])
    if channel is None:
        return NO_SUCH_CHANNEL
    channel.set_var(parts[1], parts[2] if len(parts) > 2 else None)
    return "+OK\n"


def _uuid_bridge(sw: Switch, args: str) -> str:
    parts = args.split()
    if len(parts) < 2:
        return "-USAGE: \n"
    a, b = _lookup(sw, parts[0]), _lookup(sw, parts[1])
    if a is None or b is None or a is b:
        return f"-ERR Invalid uuid {parts[0]}\n"
    for leg, peer in ((a, b), (b, a)):
        if leg.partner is not None and leg.partner is not peer:
            sw.break_bridge(leg, "NORMAL_CLEARING")
    now = int(time.time() * 1_000_000)
    for leg, peer in ((a, b), (b, a)):
        leg.other = ("originatee" if leg is a else "originator", peer)
        # uuid_bridge is a transfer to the peer: a new caller profile (i1 seq 242015).
        source = f"{now // 1_000_000}:{sw.new_uuid()}:uuid_br:{peer.uuid}"
        profile = leg.profile
        leg.set_profile(
            profile.copy(transfer_source=source, index=profile.index + 1, created_us=now)
        )
        leg.set_vars(
            (
                ("uuid_bridge", peer.uuid),
                ("bridge_channel", peer.name),
                ("bridge_uuid", peer.uuid),
                ("signal_bond", peer.uuid),
                ("original_destination_number", profile.destination_number),
                ("original_caller_id_name", profile.caller_id_name),
                ("original_caller_id_number", profile.caller_id_number),
                ("transfer_history", source),
                ("transfer_source", source),
            )
        )
        leg.state_number = STATE_NUMBER["CS_HIBERNATE"]
        sw.cancel_session(leg)
        sw.interrupt_app(leg)
        sw.emit_state(leg, "CS_HIBERNATE")
        sw.emit_state(leg, "CS_RESET")
        sw.emit_state(leg, "CS_SOFT_EXECUTE")
    for leg, peer in ((a, b), (b, a)):
        leg.unset_var("uuid_bridge")
        sw.emit(
            "CHANNEL_EXECUTE",
            leg,
            post=(("Application", "uuid_bridge"), ("Application-Data", peer.uuid)),
            calling="CHANNEL_EXECUTE/uuid_bridge",
        )
    sw.bridge(a, b, "uuid_bridge")
    return f"+OK {b.uuid}\n"


def _uuid_transfer(sw: Switch, args: str) -> str:
    parts = args.split()
    flag = ""
    if parts and parts[0] in ("-bleg", "-both"):
        flag = parts.pop(0)
    if len(parts) < 2:
        return "-USAGE: [-bleg|-both] <uuid> <dest-exten> [<dialplan>] [<context>]\n"
    channel = _lookup(sw, parts[0])
    if channel is None:
        return NO_SUCH_CHANNEL
    destination = parts[1]
    dialplan = parts[2] if len(parts) > 2 else "XML"
    context = parts[3] if len(parts) > 3 else "default"
    targets = [channel]
    if flag and channel.partner is not None:
        targets = [channel.partner] if flag == "-bleg" else [channel, channel.partner]
    for target in targets:
        if target.alive and not target.hangup_cause:
            sw.transfer(target, destination, dialplan, context)
    return "+OK\n"


def _uuid_hold(sw: Switch, args: str) -> str:
    parts = args.split()
    if not parts:
        return "-USAGE: [off|toggle] <uuid> [<display>]\n"
    mode = parts[0] if parts[0] in ("off", "toggle") else "on"
    uuid = parts[1] if mode != "on" and len(parts) > 1 else parts[0]
    channel = _lookup(sw, uuid)
    if channel is None:
        return "-ERR Operation Failed\n"
    if mode == "off" or (mode == "toggle" and channel.held):
        sw.unhold_call(channel)
    else:
        sw.hold_call(channel)
    return "+OK Success\n"


RECORD_USAGE = (
    "-USAGE: <uuid> [start|stop|mask|unmask|pause|resume] <path> [<limit>] [<recording_vars>]\n"
)


def _uuid_record(sw: Switch, args: str) -> str:
    parts = args.split()
    if len(parts) < 3:
        return RECORD_USAGE
    uuid, action, path = parts[:3]
    channel = _lookup(sw, uuid)
    if channel is None:
        return "-ERR Cannot locate session!\n"
    immediate = {
        "start": (sw.record_start, "-ERR Cannot record session!\n"),
        "stop": (sw.record_stop, "-ERR Cannot stop record session!\n"),
    }
    if action in immediate:
        operation, error = immediate[action]
        return "+OK Success\n" if operation(channel, path) else error
    if action not in ("mask", "unmask", "pause", "resume"):
        return RECORD_USAGE
    recording = channel.recordings.get(path)
    if recording is None:
        return f"-ERR Cannot {action} recording session!\n"
    # Mask/unmask and pause/resume change the file only: FreeSWITCH fires no event (k1).
    now = int(time.time() * 1_000_000)
    if action in ("mask", "unmask"):
        recording.masked = action == "mask"
    elif action == "pause" and not recording.paused_at:
        recording.paused_at = now
    elif action == "resume" and recording.paused_at:
        recording.paused_us += now - recording.paused_at
        recording.paused_at = 0
    return "+OK Success\n"


def _uuid_broadcast(sw: Switch, args: str) -> str:
    parts = args.split()
    if len(parts) < 2:
        return "-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n"
    channel = _lookup(sw, parts[0])
    if channel is None:
        return "-ERR Operation Failed\n"
    path = parts[1]
    leg = parts[2] if len(parts) > 2 else "aleg"
    targets = [channel]
    if leg in ("bleg", "holdb") and channel.partner is not None:
        targets = [channel.partner]
    elif leg == "both" and channel.partner is not None:
        targets = [channel, channel.partner]
    for target in targets:
        if "::" in path:
            app, _, data = path.partition("::")
            if app == "hangup":
                sw.hangup(target, data or "NORMAL_CLEARING")
            elif app == "transfer":
                sw.transfer(target, data.split()[0])
            continue
        sw.start_overlay(target, path, sw.config.playback_seconds)
    return "+OK Message sent\n"


def _uuid_send_dtmf(sw: Switch, args: str) -> str:
    parts = args.split()
    if len(parts) < 2:
        return "-USAGE: <uuid> <dtmf_data>\n"
    if _lookup(sw, parts[0]) is None:
        return "-ERR Cannot locate session!\n"
    return f"+OK {parts[0]} sent DTMF {parts[1]}.\n"


def _uuid_answer(sw: Switch, args: str) -> str:
    channel = _lookup(sw, args.strip())
    if channel is None:
        return NO_SUCH_CHANNEL
    sw.answer(channel)
    return "+OK\n"


def _uuid_park(sw: Switch, args: str) -> str:
    channel = _lookup(sw, args.strip())
    if channel is None:
        return NO_SUCH_CHANNEL
    if channel.partner is not None:
        sw.break_bridge(channel, "NORMAL_CLEARING")
    sw.cancel_session(channel)
    sw.interrupt_app(channel)
    sw.park(channel)
    return "+OK\n"


def _uuid_dump(sw: Switch, args: str) -> str:
    parts = args.split()
    if not parts:
        return "-USAGE: <uuid> [format]\n"
    channel = _lookup(sw, parts[0])
    if channel is None:
        return NO_SUCH_CHANNEL
    event = sw.channel_event("CHANNEL_DATA", channel)
    if parts[1:2] == ["json"]:
        frame = render_json(event.blocks, None)
    else:
        frame = render_plain(event.blocks, None)
    return frame.split(b"\n\n", 1)[1].decode("utf-8")


COMMANDS: dict[str, Handler] = {
    "version": _version,
    "status": _status,
    "hostname": _hostname,
    "global_getvar": _global_getvar,
    "global_setvar": _global_setvar,
    "user_exists": _user_exists,
    "echo": _echo,
    "create_uuid": _create_uuid,
    "hupall": _hupall,
    "fsctl": _fsctl,
    "show": _show,
    "sofia": _sofia,
    "originate": _originate,
    "uuid_kill": _uuid_kill,
    "uuid_exists": _uuid_exists,
    "uuid_getvar": _uuid_getvar,
    "uuid_setvar": _uuid_setvar,
    "uuid_bridge": _uuid_bridge,
    "uuid_transfer": _uuid_transfer,
    "uuid_hold": _uuid_hold,
    "uuid_record": _uuid_record,
    "uuid_broadcast": _uuid_broadcast,
    "uuid_send_dtmf": _uuid_send_dtmf,
    "uuid_answer": _uuid_answer,
    "uuid_park": _uuid_park,
    "uuid_dump": _uuid_dump,
}
