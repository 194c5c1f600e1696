"""The ticket admin goes through the same services: SLA clocks, history and lifecycle rules."""

import pytest

from apps.tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, cast):
    client.force_login(cast.admin)
    return client


def test_every_ticket_admin_page_loads(admin_client, departments, category):
    for model in ("ticket", "department", "ticketcategory", "slapolicy"):
        assert admin_client.get(f"/admin/tickets/{model}/").status_code == 200
        assert admin_client.get(f"/admin/tickets/{model}/add/").status_code == 200


def test_an_sla_policy_counts_on_the_shared_business_hours(admin_client, calendar):
    # The SLA calendar is routing's BusinessHours: the policy form picks it by autocomplete.
    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "tickets",
            "model_name": "slapolicy",
            "field_name": "calendar",
            "term": "Shang",
        },
    )

    assert response.status_code == 200
    assert [row["text"] for row in response.json()["results"]] == ["Shanghai office"]


def test_a_ticket_created_in_the_admin_gets_its_sla_and_history(admin_client, cast, policy):
    response = admin_client.post(
        "/admin/tickets/ticket/add/",
        {
            "subject": "Printer on fire",
            "description": "",
            "priority": "urgent",
            "channel": "manual",
            "team": cast.team_a.pk,
            "calls-TOTAL_FORMS": "0",
            "calls-INITIAL_FORMS": "0",
            "comments-TOTAL_FORMS": "0",
            "comments-INITIAL_FORMS": "0",
            "attachments-TOTAL_FORMS": "0",
            "attachments-INITIAL_FORMS": "0",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.sla_policy == policy
    assert ticket.first_response_due_at is not None
    assert ticket.created_by == cast.admin
    assert list(ticket.events.values_list("kind", flat=True)) == ["created"]
    assert admin_client.get(f"/admin/tickets/ticket/{ticket.pk}/change/").status_code == 200


def test_admin_actions_respect_the_lifecycle(admin_client, cast, policy):
    from apps.tickets.services import ticket_create

    new = ticket_create(actor=cast.admin, subject="New one")
    resolved = ticket_create(actor=cast.admin, subject="Resolved one")
    admin_client.post(
        "/admin/tickets/ticket/",
        {"action": "resolve_tickets", "_selected_action": [resolved.pk]},
    )

    admin_client.post(
        "/admin/tickets/ticket/",
        {"action": "close_tickets", "_selected_action": [new.pk, resolved.pk]},
    )

    new.refresh_from_db()
    resolved.refresh_from_db()
    assert (new.status, resolved.status) == ("new", "closed")
