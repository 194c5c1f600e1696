"""Knowledge-base tests search with the PostgreSQL backend (the default), on real PostgreSQL.

Who may read what (see apps/knowledge/selectors.py), with the shared cast:
- agents, supervisors and QA: published articles, public and internal;
- crm (API client): published public articles only;
- supervisors and admin (editors): everything, drafts included; they write and publish.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _postgres_search(settings):
    settings.SEARCH_BACKEND = "postgres"
