"""What a CRM lookup costs the database once the client's roles are cached: the token with its
user, then one statement for the customer owning the number with all its identities; a listed
page costs the same whatever the number of customers or identities on it (none per row)."""

import pytest

from apps.customers.api.serializers import CustomerSerializer
from apps.customers.models import Customer, IdentityKind
from tests.customers.factories import CustomerFactory, IdentityFactory, customer_with_phone

pytestmark = pytest.mark.django_db


def _crm_client(cast, client_as):
    client = client_as(cast.crm)
    # The first request caches the client's roles and permissions.
    assert client.get("/api/v1/customers/lookup/", {"phone": "+8613999999999"}).status_code == 404
    return client


def test_a_lookup_by_phone_is_two_queries(cast, client_as, django_assert_num_queries):
    customer = customer_with_phone("+8613812345678", name="李伟")
    IdentityFactory(customer=customer, kind=IdentityKind.PHONE, value="+861060000001")
    IdentityFactory(customer=customer, kind=IdentityKind.EMAIL, value="li@example.com")
    client = _crm_client(cast, client_as)

    with django_assert_num_queries(2):
        response = client.get("/api/v1/customers/lookup/", {"phone": "138 1234 5678"})

    assert response.status_code == 200
    assert response.json()["id"] == customer.pk
    assert response.json()["phones"] == ["+8613812345678", "+861060000001"]
    assert response.json()["emails"] == ["li@example.com"]
    assert response.json() == CustomerSerializer(Customer.objects.get(pk=customer.pk)).data


def test_an_unknown_number_is_two_queries(cast, client_as, django_assert_num_queries):
    client = _crm_client(cast, client_as)

    with django_assert_num_queries(2):
        response = client.get("/api/v1/customers/lookup/", {"phone": "+8613700000000"})

    assert response.status_code == 404


def test_a_listed_page_is_three_queries_whatever_its_size(
    cast, client_as, django_assert_num_queries
):
    for number in range(5):
        customer = CustomerFactory(tags=["wholesale"])
        IdentityFactory(
            customer=customer, kind=IdentityKind.PHONE, value=f"+8613900000{number:03d}"
        )
        IdentityFactory(customer=customer, kind=IdentityKind.EMAIL, value=f"c{number}@example.com")
    client = _crm_client(cast, client_as)

    with django_assert_num_queries(3):
        response = client.get("/api/v1/customers/", {"tag": "wholesale"})

    assert response.status_code == 200
    assert [len(c["identities"]) for c in response.json()["results"]] == [2] * 5


def test_a_client_that_loses_its_role_is_refused_at_the_next_request(cast, client_as):
    from django.contrib.auth.models import Group

    from apps.rbac import roles

    customer_with_phone("+8613812345678")
    client = _crm_client(cast, client_as)
    assert client.get("/api/v1/customers/lookup/", {"phone": "13812345678"}).status_code == 200

    cast.crm.groups.remove(Group.objects.get(name=roles.API_CLIENT))

    assert client.get("/api/v1/customers/lookup/", {"phone": "13812345678"}).status_code == 403


def test_a_role_that_loses_the_permission_is_refused_at_the_next_request(cast, client_as):
    from django.contrib.auth.models import Group, Permission

    from apps.rbac import roles

    customer_with_phone("+8613812345678")
    client = _crm_client(cast, client_as)
    assert client.get("/api/v1/customers/lookup/", {"phone": "13812345678"}).status_code == 200

    Group.objects.get(name=roles.API_CLIENT).permissions.remove(
        Permission.objects.get(codename="view_customer", content_type__app_label="customers")
    )

    assert client.get("/api/v1/customers/lookup/", {"phone": "13812345678"}).status_code == 403
