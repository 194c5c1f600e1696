"""The customers API for CRMs and the console: lookup, create, update, merge, identities,
interactions. Who may do what:

- agents, supervisors, CRMs: read, create and update customers and interactions;
- QA analysts: read only;
- merging: supervisors, CRMs and administrators (not agents);
- anonymous: nothing.
Customers are shared by every team, so supervisors of either team see the same customers.
"""

import pytest

from apps.customers.models import Customer, CustomerIdentity, CustomerMerge, Interaction
from tests.customers.factories import CustomerFactory, InteractionFactory, customer_with_phone

pytestmark = pytest.mark.django_db


def _users(cast):
    return {
        "anonymous": None,
        "agent": cast.agent_a1.user,
        "supervisor_other": cast.supervisor_b,
        "supervisor_own": cast.supervisor_a,
        "qa": cast.qa,
        "crm": cast.crm,
        "admin": cast.admin,
    }


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("agent", 200), ("supervisor_other", 200), ("qa", 200), ("crm", 200),
     ("admin", 200)],
)
def test_lookup_by_phone_in_any_format(cast, client_as, who, status):
    customer = customer_with_phone("+8613812345678", name="李伟")
    customer_with_phone("+8613900000001", name="Other")

    response = client_as(_users(cast)[who]).get(
        "/api/v1/customers/", {"phone": "138 1234 5678"}
    )

    assert response.status_code == status
    if status == 200:
        results = response.json()["results"]
        assert [(c["id"], c["name"], c["phones"]) for c in results] == [
            (customer.pk, "李伟", ["+8613812345678"])
        ]


def test_lookup_by_email_ignores_case(cast, client_as):
    customer = CustomerFactory()
    CustomerIdentity.objects.create(customer=customer, kind="email", value="li@example.com")

    response = client_as(cast.crm).get("/api/v1/customers/", {"email": "LI@Example.com"})

    assert [c["id"] for c in response.json()["results"]] == [customer.pk]


def test_a_number_that_is_not_a_phone_number_finds_nobody(cast, client_as):
    customer_with_phone("+8613812345678")

    response = client_as(cast.crm).get("/api/v1/customers/", {"phone": "not-a-number"})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_list_filters_by_tier_and_tag_and_hides_merged_duplicates(cast, client_as):
    gold = CustomerFactory(vip_tier="gold", tags=["wholesale"])
    CustomerFactory(vip_tier="gold", tags=[])
    CustomerFactory(vip_tier="gold", tags=["wholesale"], merged_into=gold)

    response = client_as(cast.crm).get(
        "/api/v1/customers/", {"vip_tier": "gold", "tag": "wholesale"}
    )

    assert [c["id"] for c in response.json()["results"]] == [gold.pk]


def test_the_list_is_cursor_paginated(cast, client_as):
    customers = [CustomerFactory() for _ in range(3)]
    client = client_as(cast.crm)

    first = client.get("/api/v1/customers/", {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert [c["id"] for c in first["results"]] == [customers[2].pk, customers[1].pk]
    assert [c["id"] for c in second["results"]] == [customers[0].pk]
    assert second["next"] is None


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("qa", 403), ("agent", 201), ("supervisor_other", 201), ("crm", 201),
     ("admin", 201)],
)
def test_create_a_customer_with_numbers_and_addresses(cast, client_as, who, status):
    response = client_as(_users(cast)[who]).post(
        "/api/v1/customers/",
        {
            "name": "Emma Brown",
            "vip_tier": "vip",
            "language": "en",
            "timezone": "Europe/London",
            "phones": ["+44 20 7946 0958", "13812345678"],
            "emails": ["Emma@Example.com"],
            "identities": [{"kind": "wechat", "value": "wx-emma"}],
            "tags": ["press"],
        },
        format="json",
    )

    assert response.status_code == status
    if status == 201:
        body = response.json()
        assert body["phones"] == ["+442079460958", "+8613812345678"]
        assert body["emails"] == ["emma@example.com"]
        assert body["vip_tier"] == "vip"
        assert Customer.objects.get(pk=body["id"]).identities.count() == 4
    else:
        assert Customer.objects.count() == 0


def test_create_reports_each_bad_field(cast, client_as):
    response = client_as(cast.crm).post(
        "/api/v1/customers/",
        {"name": "X", "phones": ["13812345678", "12"], "emails": ["nope"], "vip_tier": "platinum",
         "timezone": "Mars/Olympus"},
        format="json",
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"phones", "emails", "vip_tier", "timezone"}
    assert error["fields"]["phones"] == {"1": ["Enter a valid phone number."]}
    assert Customer.objects.count() == 0


def test_create_with_a_taken_number_answers_conflict(cast, client_as):
    owner = customer_with_phone("+8613812345678")

    response = client_as(cast.crm).post(
        "/api/v1/customers/", {"name": "Dup", "phones": ["13812345678"]}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "identity_taken"
    assert response.json()["error"]["fields"] == {
        "phones": [f"+8613812345678 already belongs to customer #{owner.pk}."]
    }
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("qa", 403), ("agent", 200), ("supervisor_other", 200), ("crm", 200),
     ("admin", 200)],
)
def test_update_a_customer(cast, client_as, who, status):
    customer = CustomerFactory(name="Old", company="")

    response = client_as(_users(cast)[who]).patch(
        f"/api/v1/customers/{customer.pk}/",
        {"name": "New", "company": "ACME", "consent_marketing": True},
        format="json",
    )

    assert response.status_code == status
    customer.refresh_from_db()
    assert customer.name == ("New" if status == 200 else "Old")
    assert customer.company == ("ACME" if status == 200 else "")


def test_a_merged_customer_cannot_be_updated(cast, client_as):
    survivor = CustomerFactory()
    tombstone = CustomerFactory(name="Gone", merged_into=survivor)

    response = client_as(cast.crm).patch(
        f"/api/v1/customers/{tombstone.pk}/", {"name": "Back"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "customer_merged"
    tombstone.refresh_from_db()
    assert tombstone.name == "Gone"


def test_a_merged_customer_still_answers_with_where_it_went(cast, client_as):
    survivor = CustomerFactory()
    tombstone = CustomerFactory(merged_into=survivor)

    response = client_as(cast.crm).get(f"/api/v1/customers/{tombstone.pk}/")

    assert response.status_code == 200
    assert response.json()["merged_into"] == survivor.pk


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("agent", 403), ("qa", 403), ("supervisor_other", 201), ("crm", 201),
     ("admin", 201)],
)
def test_merge_through_the_api(cast, client_as, who, status):
    survivor = customer_with_phone("+8613812345678")
    duplicate = customer_with_phone("+8613900000001")

    response = client_as(_users(cast)[who]).post(
        f"/api/v1/customers/{survivor.pk}/merge/", {"duplicate": duplicate.pk}, format="json"
    )

    assert response.status_code == status
    duplicate.refresh_from_db()
    if status == 201:
        assert response.json()["survivor"]["phones"] == ["+8613812345678", "+8613900000001"]
        assert duplicate.merged_into == survivor
    else:
        assert duplicate.merged_into is None
        assert CustomerMerge.objects.count() == 0


def test_merging_an_unknown_duplicate_is_not_found(cast, client_as):
    survivor = CustomerFactory()

    response = client_as(cast.crm).post(
        f"/api/v1/customers/{survivor.pk}/merge/", {"duplicate": 999999}, format="json"
    )

    assert response.status_code == 404
    assert CustomerMerge.objects.count() == 0


@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 401), ("qa", 403), ("agent", 201), ("crm", 201)]
)
def test_add_an_identity(cast, client_as, who, status):
    customer = CustomerFactory()

    response = client_as(_users(cast)[who]).post(
        f"/api/v1/customers/{customer.pk}/identities/",
        {"kind": "phone", "value": "0086 139 0000 0001", "label": "mobile"},
        format="json",
    )

    assert response.status_code == status
    assert list(customer.identities.values_list("value", flat=True)) == (
        ["+8613900000001"] if status == 201 else []
    )


def test_an_invalid_identity_value_names_the_field(cast, client_as):
    customer = CustomerFactory()

    response = client_as(cast.crm).post(
        f"/api/v1/customers/{customer.pk}/identities/", {"kind": "email", "value": "x"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"value": ["Enter a valid e-mail address."]}


@pytest.mark.parametrize(("who", "status"), [("qa", 403), ("agent", 204), ("crm", 204)])
def test_remove_an_identity(cast, client_as, who, status):
    customer = customer_with_phone("+8613812345678")
    identity = customer.identities.get()

    response = client_as(_users(cast)[who]).delete(
        f"/api/v1/customers/{customer.pk}/identities/{identity.pk}/"
    )

    assert response.status_code == status
    assert customer.identities.exists() is (status != 204)


def test_an_identity_of_another_customer_cannot_be_removed_through_this_one(cast, client_as):
    customer = CustomerFactory()
    other = customer_with_phone("+8613812345678")

    response = client_as(cast.crm).delete(
        f"/api/v1/customers/{customer.pk}/identities/{other.identities.get().pk}/"
    )

    assert response.status_code == 404
    assert other.identities.count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("agent", 200), ("qa", 200), ("crm", 200), ("supervisor_other", 200)],
)
def test_the_timeline_lists_interactions_newest_first(cast, client_as, who, status):
    customer = CustomerFactory()
    older = InteractionFactory(customer=customer, occurred_at="2026-01-01T08:00:00Z")
    newer = InteractionFactory(customer=customer, occurred_at="2026-02-01T08:00:00Z",
                               channel="call", call_uuid="c-1")
    InteractionFactory()

    response = client_as(_users(cast)[who]).get(f"/api/v1/customers/{customer.pk}/interactions/")

    assert response.status_code == status
    if status == 200:
        assert [i["id"] for i in response.json()["results"]] == [newer.pk, older.pk]


def test_the_timeline_filters_by_channel(cast, client_as):
    customer = CustomerFactory()
    InteractionFactory(customer=customer, channel="chat")
    call = InteractionFactory(customer=customer, channel="call", call_uuid="c-2")

    response = client_as(cast.crm).get(
        f"/api/v1/customers/{customer.pk}/interactions/", {"channel": "call"}
    )

    assert [i["id"] for i in response.json()["results"]] == [call.pk]


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("qa", 403), ("agent", 201), ("crm", 201), ("admin", 201)],
)
def test_record_an_interaction(cast, client_as, who, status):
    customer = CustomerFactory()
    user = _users(cast)[who]

    response = client_as(user).post(
        f"/api/v1/customers/{customer.pk}/interactions/",
        {"channel": "email", "direction": "outbound", "summary": "Sent the invoice",
         "occurred_at": "2026-03-02T10:00:00+08:00", "refs": {"crm_activity": "A-17"}},
        format="json",
    )

    assert response.status_code == status
    if status == 201:
        interaction = Interaction.objects.get()
        assert interaction.customer == customer
        assert interaction.summary == "Sent the invoice"
        assert interaction.refs == {"crm_activity": "A-17"}
        # A CRM's push has no agent; a person's note is theirs.
        assert interaction.agent == (None if who == "crm" else user)
    else:
        assert Interaction.objects.count() == 0


def test_an_interaction_on_an_unknown_channel_is_refused(cast, client_as):
    customer = CustomerFactory()

    response = client_as(cast.crm).post(
        f"/api/v1/customers/{customer.pk}/interactions/", {"channel": "fax"}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"channel"}
    assert Interaction.objects.count() == 0


def test_the_customer_api_is_in_the_openapi_schema(cast, client_as):
    response = client_as(cast.admin).get("/api/schema/", HTTP_ACCEPT="application/json")

    paths = response.json()["paths"]
    parameters = {p["name"] for p in paths["/api/v1/customers/"]["get"]["parameters"]}
    assert {"phone", "email", "vip_tier", "tag", "cursor"} <= parameters
    assert "/api/v1/customers/{customer_id}/merge/" in paths
    assert "/api/v1/customers/{customer_id}/interactions/" in paths
    assert "/api/v1/customers/import/" in paths
