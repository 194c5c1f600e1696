"""mod_xml_curl endpoints: the directory (agents' SIP credentials) and the dialplan (DIDs).

FreeSWITCH POSTs ``application/x-www-form-urlencoded`` fields (``section``, ``tag_name``,
``key_name``, ``key_value``, then the event-style headers; the directory adds ``user``,
``domain``, ``action=sip_auth`` ..., the dialplan the whole channel), see
shared/fixtures/esl/g_xml_curl.md. Requests must pass ``freeswitch_only`` (allowed address and
basic-auth credentials, apps/telephony/freeswitch_auth.py); anything we do not serve gets
FreeSWITCH's "result not found" document, which makes it fall back to its static XML.

Secrets: the directory answer carries the agent's SIP password (FreeSWITCH verifies digests
with it); neither request fields nor answers are ever logged.
"""

from __future__ import annotations

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
from apps.telephony.freeswitch_auth import freeswitch_only

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
@freeswitch_only
def directory(request: HttpRequest) -> HttpResponse:
    """Answer mod_xml_curl's directory lookups (user_exists, user_data, SIP digest auth)."""
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
@freeswitch_only
def dialplan(request: HttpRequest) -> HttpResponse:
    """Answer mod_xml_curl's dialplan lookups: a DID -> its entry point."""
    if request.POST.get("section") != "dialplan":
        return not_found()
    return _dialplan(request.POST)
