"""Tickets API: who sees and changes which ticket.

- agents: their team's tickets, and those assigned to them, watched or created by them;
- supervisors: their teams' tickets, tickets no team has taken yet, and their own;
- QA analysts: every ticket, read only; CRMs (token): every ticket, read and write;
- only administrators delete. Someone who may not see a ticket gets 404, as if it did not exist.
"""

import pytest

from apps.tickets.models import Ticket
from apps.tickets.selectors import ticket_list_open_for_customer
from apps.tickets.services import ticket_create, ticket_transition, ticket_watch
from tests.customers.factories import customer_with_phone

pytestmark = pytest.mark.django_db


def _users(cast):
    return {
        "anonymous": None,
        "agent_own": cast.agent_a1.user,
        "agent_other": cast.agent_b1.user,
        "supervisor_own": cast.supervisor_a,
        "supervisor_other": cast.supervisor_b,
        "qa": cast.qa,
        "crm": cast.crm,
        "admin": cast.admin,
    }


@pytest.fixture
def ticket(cast, policy):
    """A team A ticket assigned to agent_a2, created by the administrator."""
    return ticket_create(
        actor=cast.admin,
        subject="Parcel not delivered",
        team=cast.team_a,
        assignee=cast.agent_a2.user,
    )


def test_read_a_ticket(cast, client_as, ticket):
    statuses = {}

    for who, user in _users(cast).items():
        response = client_as(user).get(f"/api/v1/tickets/{ticket.pk}/")
        statuses[who] = response.status_code
        if response.status_code == 200:
            body = response.json()
            assert body["reference"] == f"T{ticket.pk:06d}"
            assert (body["team"], body["assignee"], body["status"]) == (
                cast.team_a.pk,
                cast.agent_a2.user.pk,
                "new",
            )

    assert statuses == {
        "anonymous": 401,
        "agent_own": 200,
        "agent_other": 404,
        "supervisor_own": 200,
        "supervisor_other": 404,
        "qa": 200,
        "crm": 200,
        "admin": 200,
    }


def test_the_list_is_scoped_to_what_the_role_may_see(cast, client_as, policy):
    ticket_create(actor=cast.admin, subject="team_a", team=cast.team_a)
    ticket_create(actor=cast.admin, subject="team_b", team=cast.team_b)
    ticket_create(actor=cast.crm, subject="triage")
    watched = ticket_create(actor=cast.admin, subject="watched_b", team=cast.team_b)
    ticket_watch(actor=cast.admin, ticket=watched, user=cast.agent_a1.user)
    seen = {}

    for who, user in _users(cast).items():
        response = client_as(user).get("/api/v1/tickets/")
        seen[who] = (
            sorted(t["subject"] for t in response.json()["results"])
            if response.status_code == 200
            else response.status_code
        )

    everything = ["team_a", "team_b", "triage", "watched_b"]
    assert seen == {
        "anonymous": 401,
        "agent_own": ["team_a", "watched_b"],
        "agent_other": ["team_b", "watched_b"],
        "supervisor_own": ["team_a", "triage"],
        "supervisor_other": ["team_b", "triage", "watched_b"],
        "qa": everything,
        "crm": everything,
        "admin": everything,
    }


def test_the_list_filters(cast, client_as, policy):
    customer = customer_with_phone("+8613812345678")
    wanted = ticket_create(
        actor=cast.admin, subject="Refund", customer=customer, priority="high", team=cast.team_a
    )
    ticket_create(actor=cast.admin, subject="Refund", priority="low", team=cast.team_a)

    response = client_as(cast.crm).get(
        "/api/v1/tickets/", {"customer": customer.pk, "priority": "high", "status": ["new", "open"]}
    )

    assert [t["id"] for t in response.json()["results"]] == [wanted.pk]


def test_create_a_ticket(cast, client_as, policy):
    customer = customer_with_phone("+8613812345678")
    statuses = {}

    for who, user in _users(cast).items():
        response = client_as(user).post(
            "/api/v1/tickets/",
            {
                "subject": f"Wrong invoice ({who})",
                "description": "Billed twice",
                "customer": customer.pk,
                "priority": "high",
                "team": cast.team_a.pk,
                "call_uuids": [f"c-{who}"],
            },
            format="json",
        )
        statuses[who] = response.status_code
        if response.status_code == 201:
            body = response.json()
            assert body["channel"] == ("api" if who == "crm" else "manual")
            assert body["calls"] == [f"c-{who}"]
            assert body["customer"] == customer.pk
            assert body["sla"]["policy"] == "Standard"
            ticket = Ticket.objects.get(pk=body["id"])
            assert ticket.created_by == user
            # The customer's timeline shows the new ticket.
            assert customer.interactions.filter(refs__ticket_id=ticket.pk).count() == 1

    assert statuses == {
        "anonymous": 401,
        "agent_own": 201,
        "agent_other": 201,
        "supervisor_own": 201,
        "supervisor_other": 201,
        "qa": 403,
        "crm": 201,
        "admin": 201,
    }
    assert Ticket.objects.count() == 6


def test_create_reports_bad_fields(cast, client_as, policy):
    response = client_as(cast.crm).post(
        "/api/v1/tickets/", {"customer": 999999, "priority": "asap"}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"subject", "customer", "priority"}
    assert Ticket.objects.count() == 0


def test_a_ticket_cannot_be_assigned_to_a_service_account(cast, client_as, policy):
    response = client_as(cast.crm).post(
        "/api/v1/tickets/", {"subject": "X", "assignee": cast.crm.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "assignee": ["Tickets can only be assigned to active staff."]
    }
    assert Ticket.objects.count() == 0


def test_update_a_ticket(cast, client_as, policy):
    statuses = {}

    for who, user in _users(cast).items():
        ticket = ticket_create(
            actor=cast.admin,
            subject="Parcel not delivered",
            team=cast.team_a,
            assignee=cast.agent_a2.user,
        )
        response = client_as(user).patch(
            f"/api/v1/tickets/{ticket.pk}/",
            {"subject": "Parcel lost", "priority": "high"},
            format="json",
        )
        statuses[who] = response.status_code
        ticket.refresh_from_db()
        assert (ticket.subject, ticket.priority) == (
            ("Parcel lost", "high")
            if response.status_code == 200
            else ("Parcel not delivered", "normal")
        )

    assert statuses == {
        "anonymous": 401,
        "agent_own": 200,
        "agent_other": 404,
        "supervisor_own": 200,
        "supervisor_other": 404,
        "qa": 403,
        "crm": 200,
        "admin": 200,
    }


def test_only_administrators_delete_tickets(cast, client_as, ticket):
    statuses = {}

    for who, user in _users(cast).items():
        response = client_as(user).delete(f"/api/v1/tickets/{ticket.pk}/")
        statuses[who] = response.status_code

    assert statuses == {
        "anonymous": 401,
        "agent_own": 403,
        "agent_other": 403,
        "supervisor_own": 403,
        "supervisor_other": 403,
        "qa": 403,
        "crm": 403,
        "admin": 204,
    }
    assert Ticket.objects.filter(pk=ticket.pk).exists() is False


def test_transitions_endpoint_permissions(cast, client_as, policy):
    statuses = {}

    for who, user in _users(cast).items():
        ticket = ticket_create(actor=cast.admin, subject="Parcel", team=cast.team_a)
        response = client_as(user).post(
            f"/api/v1/tickets/{ticket.pk}/transitions/", {"action": "open"}, format="json"
        )
        statuses[who] = response.status_code
        ticket.refresh_from_db()
        assert ticket.status == ("open" if response.status_code == 200 else "new")

    assert statuses == {
        "anonymous": 401,
        "agent_own": 200,
        "agent_other": 404,
        "supervisor_own": 200,
        "supervisor_other": 404,
        "qa": 403,
        "crm": 200,
        "admin": 200,
    }


def test_reference_lists_for_crms(cast, client_as, departments, category):
    client = client_as(cast.crm)

    departments_body = client.get("/api/v1/tickets/departments/").json()["results"]
    categories_body = client.get("/api/v1/tickets/categories/").json()["results"]

    assert sorted(d["slug"] for d in departments_body) == ["logistics", "support"]
    assert [(c["slug"], c["department"]) for c in categories_body] == [
        ("delivery", departments["logistics"].pk)
    ]
    assert client_as(None).get("/api/v1/tickets/departments/").status_code == 401


def test_the_tickets_api_is_in_the_openapi_schema(cast, client_as):
    paths = (
        client_as(cast.admin).get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    )

    for path in (
        "/api/v1/tickets/",
        "/api/v1/tickets/{ticket_id}/transitions/",
        "/api/v1/tickets/{ticket_id}/comments/",
        "/api/v1/tickets/{ticket_id}/assignment/",
    ):
        assert path in paths
    sla = (
        client_as(cast.admin)
        .get("/api/schema/", HTTP_ACCEPT="application/json")
        .json()["components"]["schemas"]["SLA"]["properties"]
    )
    assert {"first_response_due", "remaining_seconds", "state"} <= set(sla)


def test_the_screen_pop_lists_the_customers_open_tickets_the_agent_may_see(cast, policy):
    customer = customer_with_phone("+8613812345678")
    mine = ticket_create(actor=cast.admin, subject="A", customer=customer, team=cast.team_a)
    ticket_create(actor=cast.admin, subject="B", customer=customer, team=cast.team_b)
    done = ticket_create(actor=cast.admin, subject="C", customer=customer, team=cast.team_a)
    ticket_transition(actor=cast.admin, ticket=done, action="resolve")

    open_tickets = ticket_list_open_for_customer(actor=cast.agent_a1.user, customer_id=customer.pk)

    assert list(open_tickets) == [mine]
