"""What the IVR asks of other apps and of the outside world; every other app is optional.

(Business-hours nodes are the exception: they read routing's calendars, the suite's one calendar,
directly in apps.ivr.schedules.)

Other apps are imported lazily and their absence degrades gracefully: no customers app means the
caller is never found, no routing app means queue slugs are not checked, no telephony command
service means a transfer falls back to the flow's failure branch.
"""

from __future__ import annotations

import importlib
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from apps.ivr.conf import ivr_setting

logger = logging.getLogger(__name__)


class LookupFailed(Exception):
    """The external lookup did not answer usable data in time."""


@dataclass(frozen=True)
class CustomerMatch:
    customer_id: str
    tier: str = ""
    name: str = ""


def _optional(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def customer_find_by_phone(number: str) -> CustomerMatch | None:
    """Return the customer whose phone number is the caller's, through apps.customers."""
    if not number:
        return None
    finder = _optional("apps.customers.selectors", "customer_find_by_phone")
    if finder is None:
        return None
    customer = finder(number)
    if customer is None:
        return None
    tier = getattr(customer, "vip_tier", "") or getattr(customer, "tier", "") or ""
    tier = str(getattr(tier, "value", tier))
    return CustomerMatch(
        customer_id=str(customer.pk),
        # "standard" is every customer's tier: only a distinguishing tier is worth routing on.
        tier="" if tier == "standard" else tier,
        name=str(customer)[:100],
    )


def queue_slugs() -> set[str] | None:
    """Return the slugs of the routing app's queues, or None when there is no routing app."""
    queue_model = _optional("apps.routing.models", "Queue")
    if queue_model is None:
        return None
    return set(queue_model.objects.values_list("slug", flat=True))


def transfer_request(*, call_uuid: str, destination: str) -> bool:
    """Ask telephony to transfer the call; False when no transfer handler is configured.

    The httapi profile may not dial or run `transfer` (freeswitch_conf/autoload_configs/
    httapi.conf.xml), so the transfer goes over ESL: IVR_TRANSFER_HANDLER names a callable
    `(call_uuid=..., destination=...) -> bool` that requests it (e.g. a telephony call command).
    """
    dotted = ivr_setting("IVR_TRANSFER_HANDLER")
    if not dotted:
        return False
    module, _, name = dotted.rpartition(".")
    handler = _optional(module, name)
    if handler is None:
        logger.error("IVR_TRANSFER_HANDLER %s cannot be imported", dotted)
        return False
    return bool(handler(call_uuid=call_uuid, destination=destination))


def http_lookup(url: str, params: dict[str, str], timeout_ms: int) -> dict[str, Any]:
    """GET the URL with the call's data as query parameters; return the JSON object it answers.

    Raise LookupFailed on a timeout, a connection error, a non-2xx status or an answer that is
    not a JSON object.
    """
    if not url.startswith(("http://", "https://")):
        raise LookupFailed("not an http(s) URL")
    separator = "&" if "?" in url else "?"
    full_url = url + separator + urllib.parse.urlencode(params)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        full_url, headers={"Accept": "application/json", "User-Agent": "callcenter-ivr/1.0"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_ms / 1000) as response:  # noqa: S310
            body = response.read(256 * 1024)
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise LookupFailed(str(exc)) from exc
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LookupFailed("the answer is not JSON") from exc
    if not isinstance(data, dict):
        raise LookupFailed("the answer is not a JSON object")
    return data


def json_path(data: dict[str, Any], path: str) -> Any:
    """Return data["a"]["b"] for "a.b", or None when any step is missing."""
    current: Any = data
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current
