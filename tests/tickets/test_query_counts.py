"""Lists stay at a fixed number of queries however many rows they show (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.tickets.services import ticket_create, ticket_watch
from tests.customers.factories import customer_with_phone

pytestmark = pytest.mark.django_db


def _queries(client, path):
    # The first request of a user loads their role permissions into the access cache; the
    # count is about the list itself, so it is taken once that cache is warm.
    assert client.get(path).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


def test_the_ticket_list_does_not_grow_with_its_rows(cast, client_as, policy):
    client = client_as(cast.crm)
    ticket_create(
        actor=cast.admin,
        subject="one",
        team=cast.team_a,
        customer=customer_with_phone("+8613812345670"),
        call_uuids=["c-0"],
    )
    few = _queries(client, "/api/v1/tickets/")

    for position in range(1, 6):
        ticket = ticket_create(
            actor=cast.admin,
            subject=f"more {position}",
            team=cast.team_b,
            customer=customer_with_phone(f"+861381234567{position}"),
            call_uuids=[f"c-{position}"],
            assignee=cast.agent_b1.user,
        )
        ticket_watch(actor=cast.admin, ticket=ticket, user=cast.supervisor_b)

    assert _queries(client, "/api/v1/tickets/") == few


def test_the_customer_list_does_not_grow_with_its_rows(cast, client_as):
    client = client_as(cast.crm)
    customer_with_phone("+8613812345670")
    few = _queries(client, "/api/v1/customers/")

    for position in range(1, 6):
        customer_with_phone(f"+861381234567{position}")

    assert _queries(client, "/api/v1/customers/") == few
