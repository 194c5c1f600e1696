"""Run every app's demo seeding in dependency order; each app owns its own demo data."""

from __future__ import annotations

import importlib

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Order matters: later apps seed on top of earlier ones.
DEMO_MODULES = [
    "apps.accounts.demo",
    "apps.telephony.demo",
    "apps.routing.demo",
    "apps.customers.demo",
    "apps.tickets.demo",
    "apps.knowledge.demo",
    "apps.ivr.demo",
]


def seed_demo_data() -> list[str]:
    """Seed demo data of every installed app that has some; refuse outside DEBUG."""
    if not settings.DEBUG:
        raise ImproperlyConfigured("Demo data (known passwords) is only for the dev profile.")
    lines: list[str] = []
    for module_name in DEMO_MODULES:
        app_module = module_name.rsplit(".", 1)[0]
        if not any(app == app_module for app in settings.INSTALLED_APPS):
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        lines.extend(module.seed())
    return lines
