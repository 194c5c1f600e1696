"""Search tests: the PostgreSQL backend on real PostgreSQL unless a test picks another."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _postgres_search(settings):
    settings.SEARCH_BACKEND = "postgres"
