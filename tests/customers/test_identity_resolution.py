"""A contact on any channel, in any format, resolves to exactly one customer."""

import pytest

from apps.core.errors import Conflict, InvalidInput
from apps.customers.models import CustomerIdentity
from apps.customers.selectors import customer_find_by_identity, customer_find_by_phone
from apps.customers.services import (
    IdentityInput,
    customer_create,
    customer_identity_add,
    customer_identity_remove,
)
from tests.customers.factories import CustomerFactory, customer_with_phone

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "dialled", ["13812345678", "+86 138 1234 5678", "0086-138-1234-5678", "8613812345678"]
)
def test_a_caller_is_found_whatever_the_number_format(dialled):
    customer = customer_with_phone("+8613812345678")

    assert customer_find_by_phone(dialled) == customer


def test_an_unknown_or_invalid_number_finds_nobody():
    customer_with_phone("+8613812345678")

    assert customer_find_by_phone("13900000000") is None
    assert customer_find_by_phone("anonymous") is None


def test_identities_of_every_kind_resolve_to_their_customer(cast):
    customer = customer_create(
        actor=cast.admin,
        name="王芳",
        identities=[
            IdentityInput(kind="phone", value="010-12345678"),
            IdentityInput(kind="email", value="Wang.Fang@Example.com"),
            IdentityInput(kind="wechat", value="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
            IdentityInput(kind="web", value="visitor-7f3a"),
        ],
    )

    assert customer_find_by_identity("phone", "+86 10 1234 5678") == customer
    assert customer_find_by_identity("email", "wang.fang@EXAMPLE.com") == customer
    assert customer_find_by_identity("wechat", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o") == customer
    assert customer_find_by_identity("wechat", "oupf8umuajo_m2pxb1q9znjwes6o") is None
    assert customer_find_by_identity("web", " visitor-7f3a ") == customer
    assert sorted(customer.identities.values_list("kind", "value")) == [
        ("email", "wang.fang@example.com"),
        ("phone", "+861012345678"),
        ("web", "visitor-7f3a"),
        ("wechat", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
    ]


def test_a_number_already_owned_by_another_customer_is_refused_and_nothing_is_created(cast):
    owner = customer_with_phone("+8613812345678")

    with pytest.raises(Conflict) as refused:
        customer_create(
            actor=cast.admin,
            name="Someone else",
            identities=[IdentityInput(kind="phone", value="138 1234 5678")],
        )

    assert refused.value.code == "identity_taken"
    assert refused.value.field == "phones"
    assert list(CustomerIdentity.objects.values_list("customer_id", flat=True)) == [owner.pk]
    assert owner.__class__.objects.count() == 1


def test_an_invalid_identity_names_the_field_and_creates_nothing(cast):
    with pytest.raises(InvalidInput) as refused:
        customer_create(
            actor=cast.admin, name="Li", identities=[IdentityInput(kind="email", value="li@")]
        )

    assert refused.value.field == "emails"
    assert CustomerIdentity.objects.count() == 0


def test_adding_an_identity_twice_keeps_one(cast):
    customer = CustomerFactory()

    first = customer_identity_add(
        actor=cast.admin, customer=customer, kind="phone", value="13812345678"
    )
    again = customer_identity_add(
        actor=cast.admin, customer=customer, kind="phone", value="+8613812345678"
    )

    assert first == again
    assert first.is_primary is True
    assert customer.identities.count() == 1


def test_removing_the_primary_number_promotes_the_next_one(cast):
    customer = CustomerFactory()
    first = customer_identity_add(
        actor=cast.admin, customer=customer, kind="phone", value="13812345678"
    )
    second = customer_identity_add(
        actor=cast.admin, customer=customer, kind="phone", value="13912345678"
    )

    customer_identity_remove(actor=cast.admin, identity=first)

    second.refresh_from_db()
    assert second.is_primary is True
    assert customer_find_by_phone("13812345678") is None
