"""The lifecycle: new -> open -> pending -> resolved -> closed, with reopen. Illegal changes are
refused with 409 and change nothing."""

import pytest

from apps.core.errors import Conflict, InvalidInput
from apps.tickets.models import Status, TicketEvent
from apps.tickets.services import ticket_create, ticket_transition
from apps.tickets.workflow import allowed_actions, transition_target

pytestmark = pytest.mark.django_db

# (from status, action) -> resulting status; every pair not listed is illegal.
LEGAL = {
    ("new", "open"): "open",
    ("new", "pend"): "pending",
    ("new", "resolve"): "resolved",
    ("open", "pend"): "pending",
    ("open", "resolve"): "resolved",
    ("pending", "resume"): "open",
    ("pending", "resolve"): "resolved",
    ("resolved", "close"): "closed",
    ("resolved", "reopen"): "open",
    ("closed", "reopen"): "open",
}
STATUSES = ["new", "open", "pending", "resolved", "closed"]
ACTIONS = ["open", "pend", "resume", "resolve", "close", "reopen"]


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_the_transition_table(status, action):
    if (status, action) in LEGAL:
        assert (
            transition_target(status, action, pending_reason="customer") == LEGAL[(status, action)]
        )
    else:
        with pytest.raises(Conflict) as refused:
            transition_target(status, action, pending_reason="customer")
        assert refused.value.code == "illegal_transition"


def test_allowed_actions_are_offered_in_lifecycle_order():
    assert allowed_actions("new") == ["open", "pend", "resolve"]
    assert allowed_actions("closed") == ["reopen"]


def test_going_pending_needs_to_say_who_we_wait_for():
    with pytest.raises(InvalidInput) as refused:
        transition_target("open", "pend")

    assert refused.value.field == "pending_reason"


def _walk(ticket, actor, *steps):
    for action in steps:
        reason = "third_party" if action == "pend" else ""
        ticket = ticket_transition(actor=actor, ticket=ticket, action=action, pending_reason=reason)
    return ticket


def test_a_ticket_lives_its_whole_life_and_comes_back(cast, policy, clock):
    ticket = ticket_create(actor=cast.agent_a1.user, subject="Router keeps rebooting")

    ticket = _walk(ticket, cast.agent_a1.user, "open", "pend")
    assert (ticket.status, ticket.pending_reason) == ("pending", "third_party")
    clock.advance(hours=1)
    ticket = _walk(ticket, cast.agent_a1.user, "resume", "resolve")
    assert ticket.resolved_at == clock.now
    ticket = _walk(ticket, cast.agent_a1.user, "close", "reopen")

    assert ticket.status == Status.OPEN
    assert ticket.pending_reason == ""
    assert ticket.reopened_count == 1
    assert ticket.resolved_at is None
    assert ticket.closed_at is None
    assert [e.data["action"] for e in ticket.events.filter(kind="status")] == [
        "open",
        "pend",
        "resume",
        "resolve",
        "close",
        "reopen",
    ]


@pytest.mark.parametrize(
    ("path", "illegal"),
    [([], "close"), (["open"], "reopen"), (["resolve", "close"], "resolve"), (["open"], "resume")],
)
def test_an_illegal_transition_changes_nothing(cast, policy, path, illegal):
    ticket = _walk(ticket_create(actor=cast.admin, subject="Invoice wrong"), cast.admin, *path)
    ticket.refresh_from_db()
    before = (ticket.status, ticket.updated_at, ticket.resolved_at, ticket.closed_at)
    events_before = TicketEvent.objects.count()

    with pytest.raises(Conflict):
        ticket_transition(actor=cast.admin, ticket=ticket, action=illegal)

    ticket.refresh_from_db()
    assert (ticket.status, ticket.updated_at, ticket.resolved_at, ticket.closed_at) == before
    assert TicketEvent.objects.count() == events_before


def test_the_api_answers_409_for_an_illegal_transition_and_changes_nothing(cast, client_as, policy):
    ticket = ticket_create(actor=cast.admin, subject="Invoice wrong", team=cast.team_a)

    response = client_as(cast.agent_a1.user).post(
        f"/api/v1/tickets/{ticket.pk}/transitions/", {"action": "close"}, format="json"
    )

    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "illegal_transition",
            "message": "'close' is not possible for a ticket in status New.",
        }
    }
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_the_api_applies_a_legal_transition_and_lists_the_next_ones(cast, client_as, policy):
    ticket = ticket_create(actor=cast.admin, subject="Invoice wrong", team=cast.team_a)
    client = client_as(cast.agent_a1.user)

    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/transitions/",
        {"action": "pend", "pending_reason": "customer", "note": "Asked for the order number"},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["pending_reason"]) == ("pending", "customer")
    assert response.json()["allowed_actions"] == ["resume", "resolve"]
    assert client.get(f"/api/v1/tickets/{ticket.pk}/transitions/").json() == {
        "status": "pending",
        "actions": ["resume", "resolve"],
    }
    assert ticket.comments.get().body == "Asked for the order number"


def test_pending_without_a_reason_is_a_field_error(cast, client_as, policy):
    ticket = ticket_create(actor=cast.admin, subject="Invoice wrong", team=cast.team_a)

    response = client_as(cast.agent_a1.user).post(
        f"/api/v1/tickets/{ticket.pk}/transitions/", {"action": "pend"}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"pending_reason"}
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_status_cannot_be_patched_around_the_lifecycle(cast, client_as, policy):
    ticket = ticket_create(actor=cast.admin, subject="Invoice wrong", team=cast.team_a)

    response = client_as(cast.crm).patch(
        f"/api/v1/tickets/{ticket.pk}/", {"status": "closed"}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"status"}
    ticket.refresh_from_db()
    assert ticket.status == "new"
