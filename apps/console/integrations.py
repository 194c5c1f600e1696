"""The console's one door to the apps it shows: customers, tickets, knowledge, IVR and routing.

Those apps grow alongside the console, so every call here looks its function up lazily and
answers "not available" (None) when the app or the function does not exist yet: each part of
the screen-pop appears as soon as its app provides the data, and a missing app never breaks the
console. Telephony and accounts are hard dependencies and are imported directly elsewhere.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def optional(module: str, name: str) -> Any | None:
    """Return ``module.name``, or None when the module or the attribute does not exist."""
    try:
        loaded = importlib.import_module(module)
    except ImportError as error:
        if error.name and module.startswith(error.name):
            return None
        raise
    return getattr(loaded, name, None)


def optional_function(module: str, name: str) -> Callable[..., Any] | None:
    """Return a callable ``module.name`` or None (see ``optional``)."""
    found = optional(module, name)
    return found if callable(found) else None


# The functions the console uses, by app. Kept together so the report of what is missing is
# one list (``missing_integrations``).
FUNCTIONS: dict[str, tuple[str, str]] = {
    # customers
    "customer_find_by_phone": ("apps.customers.selectors", "customer_find_by_phone"),
    "interaction_list": ("apps.customers.selectors", "interaction_list"),
    "customer_create": ("apps.customers.services", "customer_create"),
    "customer_identity_add": ("apps.customers.services", "customer_identity_add"),
    "phone_normalize": ("apps.customers.normalize", "phone_normalize"),
    "access_customer_by_id": ("apps.customers.access", "access_customer_by_id"),
    # tickets
    "ticket_list_open_for_customer": ("apps.tickets.selectors", "ticket_list_open_for_customer"),
    "ticket_create_from_call": ("apps.tickets.services", "ticket_create_from_call"),
    "ticket_link_call": ("apps.tickets.services", "ticket_link_call"),
    "access_ticket_by_id": ("apps.tickets.access", "access_ticket_by_id"),
    # knowledge
    "article_suggest": ("apps.knowledge.selectors", "article_suggest"),
    # routing
    "agent_set_state": ("apps.routing.services", "agent_set_state"),
    "wrap_up_extend": ("apps.routing.services", "wrap_up_extend"),
}


def function(key: str) -> Callable[..., Any] | None:
    """Return one of the integration functions by key, or None when its app lacks it."""
    module, name = FUNCTIONS[key]
    return optional_function(module, name)


def model(label: str) -> Any | None:
    """Return a model class by "app_label.ModelName", or None when it does not exist."""
    from django.apps import apps

    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def missing_integrations() -> list[str]:
    """Return the dotted names of the integration functions that do not exist yet."""
    return [
        f"{module}.{name}"
        for module, name in FUNCTIONS.values()
        if optional_function(module, name) is None
    ]
