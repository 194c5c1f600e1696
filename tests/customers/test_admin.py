"""The admin: searchable lists, masked sensitive fields, CSV import and merges through services."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.customers.models import Customer, CustomerMerge
from tests.customers.factories import CustomerFactory, InteractionFactory, customer_with_phone

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, cast):
    client.force_login(cast.admin)
    return client


def test_lists_load_and_search_finds_a_number_in_any_format(admin_client):
    customer = customer_with_phone("+8613812345678", name="李伟")
    customer_with_phone("+8613900000001", name="Other")
    InteractionFactory(customer=customer)

    response = admin_client.get("/admin/customers/customer/", {"q": "138 1234 5678"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [customer]
    for path in (
        "/admin/customers/interaction/",
        "/admin/customers/customermerge/",
        "/admin/customers/customer/import-csv/",
    ):
        assert admin_client.get(path).status_code == 200


def test_the_change_page_shows_sensitive_fields_masked(admin_client):
    customer = CustomerFactory(national_id="110101199003071234")

    page = admin_client.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()

    assert "**************1234" in page
    assert "110101199003071234" not in page


def test_the_admin_import_reports_and_imports_nothing_on_error(admin_client):
    upload = SimpleUploadedFile("c.csv", b"name,phones\nLi,13812345678\nBad,12\n")

    response = admin_client.post("/admin/customers/customer/import-csv/", {"file": upload})

    assert response.status_code == 200
    assert [(i.row, i.field) for i in response.context["report"].errors] == [(3, "phones")]
    assert Customer.objects.count() == 0


def test_the_admin_merges_selected_customers_into_the_oldest(admin_client):
    oldest = customer_with_phone("+8613812345678")
    duplicate = customer_with_phone("+8613900000001")

    admin_client.post(
        "/admin/customers/customer/",
        {"action": "merge_into_oldest", "_selected_action": [oldest.pk, duplicate.pk]},
    )

    merge = CustomerMerge.objects.get()
    assert (merge.survivor, merge.merged) == (oldest, duplicate)


def test_an_agent_cannot_use_the_admin_import(client, cast):
    client.force_login(cast.agent_a1.user)

    response = client.get("/admin/customers/customer/import-csv/")

    assert response.status_code == 302
