"""The customer's signed link shows their ticket's status and public replies, nothing else; a
tampered or expired link shows nothing."""

import pytest
from django.core import signing

from apps.tickets.self_service import SELF_SERVICE_SALT, self_service_token
from apps.tickets.services import ticket_comment_add, ticket_create, ticket_transition
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(cast, policy):
    customer = CustomerFactory(name="Li Wei", national_id="110101199003071234")
    ticket = ticket_create(
        actor=cast.admin,
        subject="Parcel not delivered",
        customer=customer,
        team=cast.team_a,
        assignee=cast.agent_a1.user,
        description="Customer is angry, VIP, check the courier",
    )
    ticket_comment_add(
        actor=cast.agent_a1.user,
        ticket=ticket,
        body="Courier says the address was wrong",
        visibility="internal",
    )
    ticket_comment_add(
        actor=cast.agent_a1.user,
        ticket=ticket,
        body="We are tracking your parcel.",
        visibility="public",
    )
    ticket_comment_add(
        actor=cast.crm, ticket=ticket, body="Thank you!", visibility="public", from_customer=True
    )
    ticket_transition(
        actor=cast.agent_a1.user, ticket=ticket, action="pend", pending_reason="customer"
    )
    return ticket


def test_the_link_shows_status_and_public_replies_only(client, ticket, cast):
    response = client.get(f"/self-service/tickets/{self_service_token(ticket)}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert ticket.reference in page
    assert "Parcel not delivered" in page
    assert "Waiting for your reply." in page
    assert "We are tracking your parcel." in page
    assert "Thank you!" in page
    for secret in (
        "Courier says the address was wrong",
        "Customer is angry",
        "110101199003071234",
        "Li Wei",
        cast.agent_a1.user.username,
    ):
        assert secret not in page
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-cache" in response["Cache-Control"]


def test_the_api_hands_out_the_link(cast, client_as, client, ticket):
    response = client_as(cast.agent_a1.user).post(f"/api/v1/tickets/{ticket.pk}/self-service-link/")

    assert response.status_code == 200
    url = response.json()["url"]
    assert url.startswith("http://testserver/self-service/tickets/")
    assert client.get(url.removeprefix("http://testserver")).status_code == 200


def test_only_staff_who_work_the_ticket_get_the_link(cast, client_as, ticket):
    users = {
        "anonymous": None,
        "qa": cast.qa,
        "agent_b1": cast.agent_b1.user,
        "supervisor_a": cast.supervisor_a,
        "crm": cast.crm,
    }

    statuses = {
        who: client_as(user).post(f"/api/v1/tickets/{ticket.pk}/self-service-link/").status_code
        for who, user in users.items()
    }

    assert statuses == {
        "anonymous": 401,
        "qa": 403,
        "agent_b1": 404,
        "supervisor_a": 200,
        "crm": 200,
    }


def test_a_tampered_link_shows_nothing(client, ticket, cast, policy):
    other = ticket_create(actor=cast.admin, subject="Someone else's problem")
    token = self_service_token(ticket)
    _payload, rest = token.split(":", 1)
    forged = signing.dumps({"t": other.pk}, salt=SELF_SERVICE_SALT).split(":", 1)[0] + ":" + rest

    for bad in (forged, token[:-2] + "xx", "nonsense", token.replace(":", "")):
        response = client.get(f"/self-service/tickets/{bad}/")
        assert response.status_code == 404
        assert "The link is not valid." in response.content.decode()
        assert "Parcel" not in response.content.decode()
        assert "Someone else" not in response.content.decode()


def test_a_token_signed_for_another_purpose_is_refused(client, ticket):
    token = signing.dumps({"t": ticket.pk})  # default salt, e.g. a password reset

    assert client.get(f"/self-service/tickets/{token}/").status_code == 404


def test_an_expired_link_shows_nothing(client, ticket, settings):
    token = self_service_token(ticket)
    settings.TICKETS_SELF_SERVICE_MAX_AGE = -1

    response = client.get(f"/self-service/tickets/{token}/")

    assert response.status_code == 410
    assert "The link has expired." in response.content.decode()
    assert "Parcel" not in response.content.decode()


def test_a_link_to_a_deleted_ticket_shows_nothing(client, ticket):
    token = self_service_token(ticket)
    ticket.delete()

    assert client.get(f"/self-service/tickets/{token}/").status_code == 404
