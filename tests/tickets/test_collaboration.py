"""Working a ticket together: comments (internal notes vs replies), assignment, handoffs between
departments, watchers, linked calls and interactions, history, and the wrap-up ticket."""

import datetime as dt

import pytest

from apps.core.realtime import agent_group, team_group
from apps.customers.services import interaction_record_call
from apps.tickets.services import (
    ticket_create,
    ticket_create_from_call,
    ticket_transition,
)
from tests.customers.factories import InteractionFactory, customer_with_phone

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(cast, policy):
    return ticket_create(actor=cast.admin, subject="Parcel not delivered", team=cast.team_a)


def test_add_a_comment(cast, client_as, ticket):
    users = {
        "anonymous": None,
        "qa": cast.qa,
        "agent_b1": cast.agent_b1.user,
        "agent_a1": cast.agent_a1.user,
        "crm": cast.crm,
    }
    statuses = {}

    for who, user in users.items():
        response = client_as(user).post(
            f"/api/v1/tickets/{ticket.pk}/comments/",
            {"body": f"Checked with the courier ({who})", "visibility": "internal"},
            format="json",
        )
        statuses[who] = response.status_code

    assert statuses == {"anonymous": 401, "qa": 403, "agent_b1": 404, "agent_a1": 201, "crm": 201}
    assert sorted(ticket.comments.values_list("body", flat=True)) == [
        "Checked with the courier (agent_a1)",
        "Checked with the courier (crm)",
    ]


def test_staff_see_internal_notes_and_replies_in_order(cast, client_as, ticket):
    client = client_as(cast.agent_a1.user)
    client.post(f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "Note"}, format="json")
    client.post(
        f"/api/v1/tickets/{ticket.pk}/comments/",
        {"body": "Reply", "visibility": "public"},
        format="json",
    )

    response = client_as(cast.qa).get(f"/api/v1/tickets/{ticket.pk}/comments/")

    assert [(c["body"], c["visibility"], c["author"]) for c in response.json()["results"]] == [
        ("Note", "internal", "agent_a1"),
        ("Reply", "public", "agent_a1"),
    ]


def test_a_customer_reply_relayed_by_the_crm_resumes_a_ticket_waiting_for_them(
    cast, client_as, ticket
):
    ticket_transition(actor=cast.admin, ticket=ticket, action="pend", pending_reason="customer")

    response = client_as(cast.crm).post(
        f"/api/v1/tickets/{ticket.pk}/comments/",
        {"body": "Order 778812", "visibility": "public", "from_customer": True},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["author_kind"] == "customer"
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.first_responded_at is None


def test_a_customer_message_cannot_be_an_internal_note(cast, client_as, ticket):
    response = client_as(cast.crm).post(
        f"/api/v1/tickets/{ticket.pk}/comments/",
        {"body": "Hi", "visibility": "internal", "from_customer": True},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"visibility"}
    assert ticket.comments.count() == 0


def test_a_closed_ticket_takes_no_comment(cast, client_as, ticket):
    ticket_transition(actor=cast.admin, ticket=ticket, action="resolve")
    ticket_transition(actor=cast.admin, ticket=ticket, action="close")

    response = client_as(cast.agent_a1.user).post(
        f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "Late"}, format="json"
    )

    assert response.status_code == 409
    assert ticket.comments.count() == 0


def test_assigning_to_an_agent_brings_their_team_and_notifies_them(cast, client_as, ticket, pushes):
    response = client_as(cast.supervisor_b).post(
        f"/api/v1/tickets/{ticket.pk}/assignment/",
        {"assignee": cast.agent_a2.user.pk},
        format="json",
    )

    assert response.status_code == 404  # supervisor B does not see team A's ticket
    response = client_as(cast.supervisor_a).post(
        f"/api/v1/tickets/{ticket.pk}/assignment/",
        {"assignee": cast.agent_a2.user.pk},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["assignee"], response.json()["team"]) == (
        cast.agent_a2.user.pk,
        cast.team_a.pk,
    )
    assert pushes.types_to(agent_group(cast.agent_a2.pk)) == ["ticket.assigned"]
    event = ticket.events.get(kind="assigned")
    assert event.actor == cast.supervisor_a
    assert event.data == {
        "team": [cast.team_a.pk, cast.team_a.pk],
        "assignee": [None, cast.agent_a2.user.pk],
    }


def test_giving_a_ticket_to_another_team_takes_it_out_of_sight(cast, client_as, ticket):
    response = client_as(cast.agent_a1.user).post(
        f"/api/v1/tickets/{ticket.pk}/assignment/",
        {"team": cast.team_b.pk, "assignee": cast.agent_b1.user.pk},
        format="json",
    )

    assert response.status_code == 204
    ticket.refresh_from_db()
    assert (ticket.team, ticket.assignee) == (cast.team_b, cast.agent_b1.user)
    assert client_as(cast.agent_a1.user).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 404


def test_an_empty_assignment_is_a_field_error(cast, client_as, ticket):
    response = client_as(cast.admin).post(
        f"/api/v1/tickets/{ticket.pk}/assignment/", {}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "non_field_errors": ["Give a team, an assignee or both."]
    }


def test_handoff_to_another_department(cast, client_as, departments, pushes):
    ticket = ticket_create(
        actor=cast.admin,
        subject="Parcel lost",
        team=cast.team_a,
        assignee=cast.agent_a1.user,
        department=departments["support"],
    )

    response = client_as(cast.agent_a1.user).post(
        f"/api/v1/tickets/{ticket.pk}/handoff/",
        {"department": departments["logistics"].pk, "note": "Courier issue"},
        format="json",
    )

    assert response.status_code == 204  # now team B's (logistics) and unassigned
    ticket.refresh_from_db()
    assert (ticket.department, ticket.team, ticket.assignee) == (
        departments["logistics"],
        cast.team_b,
        None,
    )
    note = ticket.comments.get()
    assert (note.visibility, note.body) == ("internal", "Handed off to Logistics.\n\nCourier issue")
    assert ticket.events.get(kind="handoff").data["department"] == [
        departments["support"].pk,
        departments["logistics"].pk,
    ]
    assert "ticket.handoff" in pushes.types_to(team_group(cast.team_b.pk))
    assert client_as(cast.agent_b1.user).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 200


def test_a_resolved_ticket_is_not_handed_off(cast, client_as, departments, ticket):
    ticket_transition(actor=cast.admin, ticket=ticket, action="resolve")

    response = client_as(cast.admin).post(
        f"/api/v1/tickets/{ticket.pk}/handoff/",
        {"department": departments["logistics"].pk},
        format="json",
    )

    assert response.status_code == 409
    ticket.refresh_from_db()
    assert ticket.department is None


def test_the_category_brings_its_department_and_team(cast, category):
    ticket = ticket_create(actor=cast.admin, subject="Late delivery", category=category)

    assert (ticket.department.slug, ticket.team) == ("logistics", cast.team_b)


def test_a_watcher_sees_a_ticket_outside_their_team(cast, client_as, ticket):
    client_as(cast.supervisor_a).post(
        f"/api/v1/tickets/{ticket.pk}/watchers/", {"user": cast.agent_b1.user.pk}, format="json"
    )

    assert client_as(cast.agent_b1.user).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 200
    response = client_as(cast.agent_b1.user).delete(f"/api/v1/tickets/{ticket.pk}/watchers/")
    assert response.status_code == 204
    assert client_as(cast.agent_b1.user).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 404
    assert [e.data for e in ticket.events.filter(kind="watcher")] == [
        {"added": cast.agent_b1.user.pk},
        {"removed": cast.agent_b1.user.pk},
    ]


def test_link_a_call_and_its_interaction(cast, client_as, policy):
    customer = customer_with_phone("+8613812345678")
    ticket = ticket_create(actor=cast.admin, subject="Billing", customer=customer, team=cast.team_a)
    call = interaction_record_call(
        call_uuid="c-9",
        caller_number="13812345678",
        started_at=dt.datetime(2026, 3, 2, 1, tzinfo=dt.UTC),
    )
    client = client_as(cast.agent_a1.user)

    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/links/", {"call_uuid": "c-9"}, format="json"
    )
    client.post(f"/api/v1/tickets/{ticket.pk}/links/", {"call_uuid": "c-9"}, format="json")

    assert response.status_code == 200
    assert response.json()["calls"] == ["c-9"]
    assert response.json()["linked_interactions"] == [call.pk]
    assert ticket.events.filter(kind="linked").count() == 1


def test_an_interaction_of_another_customer_is_not_linked(cast, client_as, policy):
    ticket = ticket_create(
        actor=cast.admin,
        subject="Billing",
        team=cast.team_a,
        customer=customer_with_phone("+8613812345678"),
    )
    foreign = InteractionFactory()

    response = client_as(cast.admin).post(
        f"/api/v1/tickets/{ticket.pk}/links/", {"interaction": foreign.pk}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"interaction"}
    assert ticket.linked_interactions.count() == 0


def test_the_history_lists_what_happened(cast, client_as, ticket):
    ticket_transition(actor=cast.agent_a1.user, ticket=ticket, action="open")

    response = client_as(cast.qa).get(f"/api/v1/tickets/{ticket.pk}/events/")

    assert [(e["kind"], e["actor"]) for e in response.json()["results"]] == [
        ("created", "admin"),
        ("status", "agent_a1"),
    ]


def test_the_wrap_up_ticket_is_prefilled_from_the_call(cast, policy, pushes):
    customer = customer_with_phone("+8613812345678")
    call = interaction_record_call(
        call_uuid="c-42",
        caller_number="13812345678",
        started_at=dt.datetime(2026, 3, 2, 1, tzinfo=dt.UTC),
    )

    ticket = ticket_create_from_call(
        actor=cast.agent_a1.user,
        call_uuid="c-42",
        caller_number="+86 138 1234 5678",
        subject="Wants a refund",
        description="Charged twice in March",
    )

    assert ticket.customer == customer
    assert ticket.channel == "phone"
    assert (ticket.assignee, ticket.team) == (cast.agent_a1.user, cast.team_a)
    assert list(ticket.calls.values_list("call_uuid", flat=True)) == ["c-42"]
    assert list(ticket.linked_interactions.all()) == [call]
    assert ticket.created_by == cast.agent_a1.user


def test_a_wrap_up_ticket_for_a_new_caller_starts_their_record(cast, policy):
    ticket = ticket_create_from_call(
        actor=cast.agent_a1.user,
        call_uuid="c-43",
        caller_number="13900000001",
        subject="Asked about opening hours",
    )

    assert list(ticket.customer.identities.values_list("value", flat=True)) == ["+8613900000001"]
