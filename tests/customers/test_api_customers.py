"""The customers API for CRMs and the console: lookup, create, update, merge, identities,
interactions. Who may do what:

- agents, supervisors, CRMs: read, create and update customers and interactions;
- QA analysts: read only;
- merging: supervisors, CRMs and administrators (not agents);
- anonymous: nothing.
Customers are shared by every team, so supervisors of either team see the same customers.
"""

import pytest

from apps.customers.api.serializers import CustomerSerializer
from apps.customers.models import Customer, CustomerIdentity, CustomerMerge, Interaction
from apps.customers.services import customer_merge
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


def test_lookup_by_phone_in_any_format(cast, client_as):
    customer = customer_with_phone("+8613812345678", name="李伟")
    customer_with_phone("+8613900000001", name="Other")
    statuses, found = {}, {}

    for who, user in _users(cast).items():
        response = client_as(user).get("/api/v1/customers/", {"phone": "138 1234 5678"})
        statuses[who] = response.status_code
        if response.status_code == 200:
            found[who] = [(c["id"], c["name"], c["phones"]) for c in response.json()["results"]]

    assert statuses == {
        "anonymous": 401,
        "agent": 200,
        "supervisor_other": 200,
        "supervisor_own": 200,
        "qa": 200,
        "crm": 200,
        "admin": 200,
    }
    assert found == {
        who: [(customer.pk, "李伟", ["+8613812345678"])]
        for who, status in statuses.items()
        if status == 200
    }


def test_the_lookup_endpoint_resolves_one_contact(cast, client_as):
    customer = customer_with_phone("+8613812345678", name="李伟")
    CustomerIdentity.objects.create(customer=customer, kind="wechat", value="wx-li")
    statuses = {}

    for who, user in _users(cast).items():
        response = client_as(user).get("/api/v1/customers/lookup/", {"phone": "0086 13812345678"})
        statuses[who] = response.status_code
        if response.status_code == 200:
            assert (response.json()["id"], response.json()["phones"]) == (
                customer.pk,
                ["+8613812345678"],
            )

    assert statuses == {
        "anonymous": 401,
        "agent": 200,
        "supervisor_other": 200,
        "supervisor_own": 200,
        "qa": 200,
        "crm": 200,
        "admin": 200,
    }
    client = client_as(cast.crm)
    assert (
        client.get("/api/v1/customers/lookup/", {"kind": "wechat", "value": "wx-li"}).json()["id"]
        == customer.pk
    )
    unknown = client.get("/api/v1/customers/lookup/", {"phone": "13900000000"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    missing = client.get("/api/v1/customers/lookup/")
    assert (missing.status_code, list(missing.json()["error"]["fields"])) == (400, ["phone"])


def test_a_lookup_of_a_merged_duplicates_number_finds_the_survivor(cast, client_as):
    survivor = CustomerFactory()

    customer_merge(
        actor=cast.admin, survivor=survivor, duplicate=customer_with_phone("+8613812345678")
    )

    response = client_as(cast.crm).get("/api/v1/customers/lookup/", {"phone": "13812345678"})

    assert response.json()["id"] == survivor.pk


def test_the_customer_body_has_exactly_the_documented_fields(cast, client_as):
    customer = customer_with_phone("+8613812345678")

    body = client_as(cast.crm).get(f"/api/v1/customers/{customer.pk}/").json()

    assert list(body) == CustomerSerializer.Meta.fields
    assert body["identities"][0].keys() == {"id", "kind", "value", "label", "is_primary"}


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


CREATE_STATUSES = {
    "anonymous": 401,
    "qa": 403,
    "agent": 201,
    "supervisor_other": 201,
    "supervisor_own": 201,
    "crm": 201,
    "admin": 201,
}


def test_create_a_customer_with_numbers_and_addresses(cast, client_as):
    statuses = {}

    for position, (who, user) in enumerate(_users(cast).items()):
        response = client_as(user).post(
            "/api/v1/customers/",
            {
                "name": f"Emma Brown {who}",
                "vip_tier": "vip",
                "language": "en",
                "timezone": "Europe/London",
                "phones": [f"+44 20 7946 095{position}", f"138 1234 567{position}"],
                "emails": [f"Emma.{who}@Example.com"],
                "identities": [{"kind": "wechat", "value": f"wx-{who}"}],
                "tags": ["press"],
            },
            format="json",
        )
        statuses[who] = response.status_code
        if response.status_code == 201:
            body = response.json()
            assert body["phones"] == [f"+44207946095{position}", f"+861381234567{position}"]
            assert body["emails"] == [f"emma.{who}@example.com"]
            assert body["vip_tier"] == "vip"
            assert Customer.objects.get(pk=body["id"]).identities.count() == 4

    assert statuses == CREATE_STATUSES
    assert sorted(Customer.objects.values_list("name", flat=True)) == sorted(
        f"Emma Brown {who}" for who, status in CREATE_STATUSES.items() if status == 201
    )


def test_create_reports_each_bad_field(cast, client_as):
    response = client_as(cast.crm).post(
        "/api/v1/customers/",
        {
            "name": "X",
            "phones": ["13812345678", "12"],
            "emails": ["nope"],
            "vip_tier": "platinum",
            "timezone": "Mars/Olympus",
        },
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


def test_update_a_customer(cast, client_as):
    statuses = {}

    for who, user in _users(cast).items():
        customer = CustomerFactory(name="Old", company="")
        response = client_as(user).patch(
            f"/api/v1/customers/{customer.pk}/",
            {"name": "New", "company": "ACME", "consent_marketing": True},
            format="json",
        )
        statuses[who] = response.status_code
        customer.refresh_from_db()
        assert (customer.name, customer.company) == (
            ("New", "ACME") if response.status_code == 200 else ("Old", "")
        )

    assert statuses == {
        "anonymous": 401,
        "qa": 403,
        "agent": 200,
        "supervisor_other": 200,
        "supervisor_own": 200,
        "crm": 200,
        "admin": 200,
    }


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


def test_merge_through_the_api(cast, client_as):
    statuses = {}

    for position, (who, user) in enumerate(_users(cast).items()):
        survivor = customer_with_phone(f"+861381234567{position}")
        duplicate = customer_with_phone(f"+861390000000{position}")
        merges_before = CustomerMerge.objects.count()
        response = client_as(user).post(
            f"/api/v1/customers/{survivor.pk}/merge/", {"duplicate": duplicate.pk}, format="json"
        )
        statuses[who] = response.status_code
        duplicate.refresh_from_db()
        if response.status_code == 201:
            assert response.json()["survivor"]["phones"] == [
                f"+861381234567{position}",
                f"+861390000000{position}",
            ]
            assert duplicate.merged_into == survivor
        else:
            assert duplicate.merged_into is None
            assert CustomerMerge.objects.count() == merges_before

    assert statuses == {
        "anonymous": 401,
        "agent": 403,
        "qa": 403,
        "supervisor_other": 201,
        "supervisor_own": 201,
        "crm": 201,
        "admin": 201,
    }


def test_merging_an_unknown_duplicate_is_not_found(cast, client_as):
    survivor = CustomerFactory()

    response = client_as(cast.crm).post(
        f"/api/v1/customers/{survivor.pk}/merge/", {"duplicate": 999999}, format="json"
    )

    assert response.status_code == 404
    assert CustomerMerge.objects.count() == 0


def test_add_an_identity(cast, client_as):
    statuses = {}

    for who, user in _users(cast).items():
        customer = CustomerFactory()
        response = client_as(user).post(
            f"/api/v1/customers/{customer.pk}/identities/",
            {"kind": "wechat", "value": f"wx-{who}", "label": "personal"},
            format="json",
        )
        statuses[who] = response.status_code
        assert list(customer.identities.values_list("value", flat=True)) == (
            [f"wx-{who}"] if response.status_code == 201 else []
        )

    assert statuses == {
        "anonymous": 401,
        "qa": 403,
        "agent": 201,
        "supervisor_other": 201,
        "supervisor_own": 201,
        "crm": 201,
        "admin": 201,
    }


def test_an_added_phone_is_normalised(cast, client_as):
    customer = CustomerFactory()

    response = client_as(cast.crm).post(
        f"/api/v1/customers/{customer.pk}/identities/",
        {"kind": "phone", "value": "0086 139 0000 0001"},
        format="json",
    )

    assert response.json()["value"] == "+8613900000001"


def test_an_invalid_identity_value_names_the_field(cast, client_as):
    customer = CustomerFactory()

    response = client_as(cast.crm).post(
        f"/api/v1/customers/{customer.pk}/identities/",
        {"kind": "email", "value": "x"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"value": ["Enter a valid e-mail address."]}


def test_remove_an_identity(cast, client_as):
    statuses = {}

    for position, (who, user) in enumerate(_users(cast).items()):
        customer = customer_with_phone(f"+861381234567{position}")
        identity = customer.identities.get()
        response = client_as(user).delete(
            f"/api/v1/customers/{customer.pk}/identities/{identity.pk}/"
        )
        statuses[who] = response.status_code
        assert customer.identities.exists() is (response.status_code != 204)

    assert statuses == {
        "anonymous": 401,
        "qa": 403,
        "agent": 204,
        "supervisor_other": 204,
        "supervisor_own": 204,
        "crm": 204,
        "admin": 204,
    }


def test_an_identity_of_another_customer_cannot_be_removed_through_this_one(cast, client_as):
    customer = CustomerFactory()
    other = customer_with_phone("+8613812345678")

    response = client_as(cast.crm).delete(
        f"/api/v1/customers/{customer.pk}/identities/{other.identities.get().pk}/"
    )

    assert response.status_code == 404
    assert other.identities.count() == 1


def test_the_timeline_lists_interactions_newest_first(cast, client_as):
    customer = CustomerFactory()
    older = InteractionFactory(customer=customer, occurred_at="2026-01-01T08:00:00Z")
    newer = InteractionFactory(
        customer=customer, occurred_at="2026-02-01T08:00:00Z", channel="call", call_uuid="c-1"
    )
    InteractionFactory()
    statuses = {}

    for who, user in _users(cast).items():
        response = client_as(user).get(f"/api/v1/customers/{customer.pk}/interactions/")
        statuses[who] = response.status_code
        if response.status_code == 200:
            assert [i["id"] for i in response.json()["results"]] == [newer.pk, older.pk]

    assert statuses == {
        "anonymous": 401,
        "agent": 200,
        "supervisor_other": 200,
        "supervisor_own": 200,
        "qa": 200,
        "crm": 200,
        "admin": 200,
    }


def test_the_timeline_filters_by_channel(cast, client_as):
    customer = CustomerFactory()
    InteractionFactory(customer=customer, channel="chat")
    call = InteractionFactory(customer=customer, channel="call", call_uuid="c-2")

    response = client_as(cast.crm).get(
        f"/api/v1/customers/{customer.pk}/interactions/", {"channel": "call"}
    )

    assert [i["id"] for i in response.json()["results"]] == [call.pk]


def test_record_an_interaction(cast, client_as):
    statuses = {}

    for who, user in _users(cast).items():
        customer = CustomerFactory()
        response = client_as(user).post(
            f"/api/v1/customers/{customer.pk}/interactions/",
            {
                "channel": "email",
                "direction": "outbound",
                "summary": "Sent the invoice",
                "occurred_at": "2026-03-02T10:00:00+08:00",
                "refs": {"crm_activity": "A-17"},
            },
            format="json",
        )
        statuses[who] = response.status_code
        interactions = list(Interaction.objects.filter(customer=customer))
        if response.status_code == 201:
            assert [(i.summary, i.refs) for i in interactions] == [
                ("Sent the invoice", {"crm_activity": "A-17"})
            ]
            # A CRM's push has no agent; a person's note is theirs.
            assert interactions[0].agent == (None if who == "crm" else user)
        else:
            assert interactions == []

    assert statuses == {
        "anonymous": 401,
        "qa": 403,
        "agent": 201,
        "supervisor_other": 201,
        "supervisor_own": 201,
        "crm": 201,
        "admin": 201,
    }


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


def test_an_external_id_belongs_to_one_customer(cast, client_as):
    CustomerFactory(external_id="CRM-1")
    other = CustomerFactory(external_id="")

    response = client_as(cast.crm).patch(
        f"/api/v1/customers/{other.pk}/", {"external_id": "CRM-1"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["fields"] == {
        "external_id": ["Another customer has this external id."]
    }
    other.refresh_from_db()
    assert other.external_id == ""
