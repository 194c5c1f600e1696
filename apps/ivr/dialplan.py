"""The hook the telephony app's mod_xml_curl dialplan calls to put the IVR in front of a DID."""

from __future__ import annotations

from typing import Any

from apps.ivr.conf import ivr_setting


def httapi_entry_for_did(did: str) -> dict[str, Any] | None:
    """Return how the dialplan runs the live IVR flow of a dialled number, or None if it has none.

    The dict holds:
      "application": "httapi",
      "data": the application data, e.g.
              "{httapi_profile=default,cc_did=4001234567,url=${suite_base_url}/freeswitch/httapi/}"
              (FreeSWITCH expands ${suite_base_url} from its global variables, vars.xml),
      "params": the {...} params as a dict,
      "flow": the flow's name, "language": its default language (a good cc_language default),
      "fallback_queue": the queue slug to park in when httapi ends without a result ("" = the
              dialplan's own default).
    The dialplan must always continue after httapi to a safe destination: the IVR leaves with
    <break/> after setting cc_queue, and every failure (HTTP error, timeout, bad document) also
    ends httapi and lets the dialplan go on.
    """
    from apps.ivr.models import InboundNumber

    number = (
        InboundNumber.objects.filter(number__in={did, did.lstrip("+")}, is_active=True)
        .select_related("flow", "flow__live_version")
        .first()
    )
    if number is None or number.flow.live_version is None:
        return None
    flow = number.flow
    params = {"httapi_profile": ivr_setting("IVR_HTTAPI_PROFILE"), "cc_did": number.number}
    params["url"] = httapi_url()
    data = "{" + ",".join(f"{key}={value}" for key, value in params.items()) + "}"
    frozen = flow.live_version.flow_settings or {}
    return {
        "application": "httapi",
        "data": data,
        "params": params,
        "flow": flow.name,
        "language": (frozen.get("languages") or flow.all_languages)[0],
        "fallback_queue": frozen.get("fallback_queue", flow.fallback_queue),
    }


def httapi_url() -> str:
    """Return the URL FreeSWITCH asks for IVR steps (IVR_HTTAPI_URL, else FreeSWITCH's own
    ${suite_base_url} global, which application data expands at run time)."""
    return ivr_setting("IVR_HTTAPI_URL") or "${suite_base_url}/freeswitch/httapi/"


def telephony_entry_point(did: str, fields: Any = None) -> Any:
    """Answer telephony's entry-point question for a DID (registered in IvrConfig.ready)."""
    from apps.telephony.dialplan import EntryPoint

    entry = httapi_entry_for_did(did)
    if entry is None:
        return None
    return EntryPoint(
        httapi_url=entry["params"]["url"],
        queue=entry["fallback_queue"],
        variables={"cc_language": entry["language"]},
    )
