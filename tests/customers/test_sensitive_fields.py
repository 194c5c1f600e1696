"""National ID and bank card numbers are encrypted at rest, masked everywhere, and revealing one
needs customers.reveal_sensitive and leaves an access-log entry."""

import pytest
from django.db import connection

from apps.audit.models import AccessLog
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NATIONAL_ID = "110101199003071234"
BANK_CARD = "6222021234567890"


@pytest.fixture
def customer():
    return CustomerFactory(name="Li Wei", national_id=NATIONAL_ID, bank_card=BANK_CARD)


def test_sensitive_fields_are_ciphertext_in_the_database(customer):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT national_id, bank_card FROM customers_customer WHERE id = %s", [customer.pk]
        )
        stored = cursor.fetchone()

    assert all(value.startswith("v1:") for value in stored)
    assert NATIONAL_ID not in stored[0]
    assert BANK_CARD not in stored[1]


def test_the_api_shows_only_masked_values(cast, client_as, customer):
    response = client_as(cast.agent_a1.user).get(f"/api/v1/customers/{customer.pk}/")

    body = response.json()
    assert body["national_id_masked"] == "**************1234"
    assert body["bank_card_masked"] == "************7890"
    assert NATIONAL_ID not in response.content.decode()
    assert BANK_CARD not in response.content.decode()
    assert "national_id" not in body


def test_revealing_needs_the_permission_and_is_logged(cast, client_as, customer):
    users = {
        "anonymous": None,
        "agent": cast.agent_a1.user,
        "qa": cast.qa,
        "crm": cast.crm,
        "supervisor": cast.supervisor_b,
        "admin": cast.admin,
    }
    statuses = {}

    for who, user in users.items():
        logged_before = AccessLog.objects.count()
        response = client_as(user).post(
            f"/api/v1/customers/{customer.pk}/reveal/",
            {"field": "bank_card"},
            REMOTE_ADDR="192.0.2.9",
        )
        statuses[who] = response.status_code
        if response.status_code == 200:
            assert response.json() == {"field": "bank_card", "value": BANK_CARD}
            entry = AccessLog.objects.latest("id")
            assert entry.action == AccessLog.Action.REVEAL_FIELD
            assert entry.actor == user
            assert entry.target_type == "customers.Customer"
            assert entry.target_id == str(customer.pk)
            assert entry.field == "bank_card"
            assert entry.remote_addr == "192.0.2.9"
        else:
            assert AccessLog.objects.count() == logged_before
            assert BANK_CARD not in response.content.decode()

    assert statuses == {
        "anonymous": 401,
        "agent": 403,
        "qa": 403,
        "crm": 403,
        "supervisor": 200,
        "admin": 200,
    }
    assert AccessLog.objects.count() == 2


def test_only_sensitive_fields_can_be_revealed(cast, client_as, customer):
    response = client_as(cast.admin).post(
        f"/api/v1/customers/{customer.pk}/reveal/", {"field": "name"}
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"field"}
    assert AccessLog.objects.count() == 0


def test_revealing_an_unknown_customer_is_not_found_and_not_logged(cast, client_as):
    response = client_as(cast.admin).post(
        "/api/v1/customers/999999/reveal/", {"field": "bank_card"}
    )

    assert response.status_code == 404
    assert AccessLog.objects.count() == 0


def test_writing_a_sensitive_field_through_the_api_stores_it_encrypted(cast, client_as, customer):
    response = client_as(cast.crm).patch(
        f"/api/v1/customers/{customer.pk}/", {"bank_card": "6222029999998888"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["bank_card_masked"] == "************8888"
    customer.refresh_from_db()
    assert customer.bank_card == "6222029999998888"
