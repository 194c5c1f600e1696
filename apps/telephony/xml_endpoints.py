"""mod_xml_curl endpoints: the directory (agents' SIP credentials) and the dialplan (DIDs).

FreeSWITCH POSTs ``application/x-www-form-urlencoded`` fields (``section``, ``tag_name``,
``key_name``, ``key_value``, then the event-style headers; the directory adds ``user``,
``domain``, ``action=sip_auth`` ..., the dialplan the whole channel), see
shared/fixtures/esl/g_xml_curl.md. Requests must come from FREESWITCH_XML_ALLOWED_IPS with the
basic-auth credentials FREESWITCH_XML_USERNAME / FREESWITCH_XML_PASSWORD; anything we do not
serve gets FreeSWITCH's "result not found" document, which makes it fall back to its static XML.

Secrets: the directory answer carries the agent's SIP password (FreeSWITCH verifies digests
with it); neither request fields nor answers are ever logged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import logging
import re
from collections.abc import Mapping
from xml.sax.saxutils import quoteattr

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.accounts.models import Agent
from apps.telephony.dialplan import EntryPoint, default_queue, entry_point_for

logger = logging.getLogger(__name__)

NOT_FOUND_DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    '<document type="freeswitch/xml">\n'
    '  <section name="result">\n'
    '    <result status="not found" />\n'
    "  </section>\n"
    "</document>\n"
)

# Domain parameter FreeSWITCH needs to dial user/<ext> when the directory comes from HTTP
# (as the vanilla directory sets it): it resolves the registered contact, WebSocket ones included.
DIAL_STRING = (
    "{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@${dialed_domain}}"
    "${sofia_contact(*/${dialed_user}@${dialed_domain})}"
)

_SAFE_TOKEN = re.compile(r"^[A-Za-z0-9_.+*#@-]{1,64}$")


def _xml_response(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def not_found() -> HttpResponse:
    """Return FreeSWITCH's "result not found" document."""
    return _xml_response(NOT_FOUND_DOCUMENT)


def _address_allowed(address: str | None) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    for entry in settings.FREESWITCH_XML_ALLOWED_IPS:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def _credentials_valid(request: HttpRequest) -> bool:
    scheme, _, encoded = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        username, separator, password = (
            base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return False
    expected_user = str(settings.FREESWITCH_XML_USERNAME or "")
    expected_password = str(settings.FREESWITCH_XML_PASSWORD or "")
    # Both compared in constant time, always, so timing does not tell which one was wrong.
    user_ok = hmac.compare_digest(username.encode(), expected_user.encode())
    password_ok = hmac.compare_digest(password.encode(), expected_password.encode())
    return bool(separator) and user_ok and password_ok and bool(expected_password)


def _refusal(request: HttpRequest) -> HttpResponse | None:
    # REMOTE_ADDR only: FreeSWITCH connects directly; a forwarded-for header could be forged.
    address = request.META.get("REMOTE_ADDR")
    if not _address_allowed(address):
        logger.warning("xml_curl request refused: address %s not allowed", address)
        return HttpResponse("forbidden", status=403, content_type="text/plain")
    if not _credentials_valid(request):
        logger.warning("xml_curl request refused: bad credentials from %s", address)
        response = HttpResponse("unauthorized", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Basic realm="freeswitch-xml"'
        return response
    return None


# ------------------------------------------------------------------------------- directory


def directory_document(*, agent: Agent, domain: str) -> str:
    """Return the directory document of one agent in one domain."""
    name = str(agent.user)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        '<document type="freeswitch/xml">\n'
        '  <section name="directory">\n'
        f"    <domain name={quoteattr(domain)}>\n"
        "      <params>\n"
        f'        <param name="dial-string" value={quoteattr(DIAL_STRING)}/>\n'
        "      </params>\n"
        "      <groups>\n"
        '        <group name="default">\n'
        "          <users>\n"
        f"            <user id={quoteattr(agent.extension)}>\n"
        "              <params>\n"
        f'                <param name="password" value={quoteattr(agent.sip_password)}/>\n'
        "              </params>\n"
        "              <variables>\n"
        '                <variable name="user_context" value="default"/>\n'
        f'                <variable name="effective_caller_id_name" value={quoteattr(name)}/>\n'
        f'                <variable name="effective_caller_id_number" '
        f"value={quoteattr(agent.extension)}/>\n"
        f'                <variable name="cc_agent_id" value="{agent.pk}"/>\n'
        "              </variables>\n"
        "            </user>\n"
        "          </users>\n"
        "        </group>\n"
        "      </groups>\n"
        "    </domain>\n"
        "  </section>\n"
        "</document>\n"
    )


def _directory(fields: Mapping[str, str]) -> HttpResponse:
    user = fields.get("user") or fields.get("sip_auth_username") or ""
    domain = fields.get("domain") or fields.get("key_value") or ""
    if not user or not domain or fields.get("purpose"):
        return not_found()
    if domain != settings.FREESWITCH_SIP_DOMAIN:
        return not_found()
    agent = (
        Agent.objects.select_related("user")
        .filter(extension=user, is_active=True, user__is_active=True)
        .first()
    )
    if agent is None:
        return not_found()
    return _xml_response(directory_document(agent=agent, domain=domain))


@csrf_exempt
@require_POST
def directory(request: HttpRequest) -> HttpResponse:
    """Answer mod_xml_curl's directory lookups (user_exists, user_data, SIP digest auth)."""
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    if request.POST.get("section") != "directory":
        return not_found()
    return _directory(request.POST)


# --------------------------------------------------------------------------------- dialplan


def dialplan_document(*, did: str, context: str, entry: EntryPoint) -> str:
    """Return the dialplan of one DID: the IVR (if any), then always the safe destination.

    The default queue is set *before* the IVR runs, so whatever the IVR sets wins and a failed
    or abandoned IVR still leaves the caller in a queue. ``park`` ends the extension: the event
    process sees CHANNEL_PARK, plays hold music to the caller and announces ``call.parked``.
    """
    actions = [("set", f"cc_did={did}"), ("set", f"cc_queue={entry.queue or default_queue()}")]
    actions += [("set", f"{name}={value}") for name, value in entry.variables.items()]
    actions.append(("answer", ""))
    if entry.httapi_url:
        actions.append(("httapi", f"{{url={entry.httapi_url}}}"))
    actions.append(("park", ""))
    lines = []
    for application, data in actions:
        data_attribute = f" data={quoteattr(data)}" if data else ""
        lines.append(f"          <action application={quoteattr(application)}{data_attribute}/>")
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        '<document type="freeswitch/xml">\n'
        '  <section name="dialplan" description="callcenter">\n'
        f"    <context name={quoteattr(context)}>\n"
        f"      <extension name={quoteattr('cc_inbound_' + did)}>\n"
        f'        <condition field="destination_number" '
        f"expression={quoteattr('^' + re.escape(did) + '$')}>\n"
        + "\n".join(lines)
        + "\n        </condition>\n"
        "      </extension>\n"
        "    </context>\n"
        "  </section>\n"
        "</document>\n"
    )


def _dialplan(fields: Mapping[str, str]) -> HttpResponse:
    did = fields.get("Caller-Destination-Number") or fields.get("Hunt-Destination-Number") or ""
    context = fields.get("Hunt-Context") or fields.get("Caller-Context") or "default"
    if not _SAFE_TOKEN.match(did) or not _SAFE_TOKEN.match(context):
        return not_found()
    entry = entry_point_for(did, fields)
    if entry is None:
        return not_found()
    for name, value in entry.variables.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or "\n" in str(value):
            # FreeSWITCH falls back to its static dialplan (safe destination) on "not found".
            logger.error("entry point of %s sets an invalid channel variable %r", did, name)
            return not_found()
    return _xml_response(dialplan_document(did=did, context=context, entry=entry))


@csrf_exempt
@require_POST
def dialplan(request: HttpRequest) -> HttpResponse:
    """Answer mod_xml_curl's dialplan lookups: a DID -> its entry point."""
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    if request.POST.get("section") != "dialplan":
        return not_found()
    return _dialplan(request.POST)
