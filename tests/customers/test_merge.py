"""Merging duplicates joins their histories: everything moves to the survivor, with a record."""

import pytest
from auditlog.models import LogEntry

from apps.core.errors import Conflict, InvalidInput
from apps.customers.models import Customer, CustomerMerge, Interaction
from apps.customers.selectors import customer_find_by_identity, customer_find_by_phone
from apps.customers.services import customer_merge, interaction_record
from apps.tickets.services import ticket_create
from tests.customers.factories import (
    CustomerFactory,
    IdentityFactory,
    InteractionFactory,
    customer_with_phone,
)

pytestmark = pytest.mark.django_db


def test_merge_moves_identities_interactions_and_tickets_to_the_survivor(cast):
    survivor = customer_with_phone("+8613812345678", name="Li Wei", vip_tier="standard")
    duplicate = customer_with_phone(
        "+8613900000001", name="", company="ACME", vip_tier="gold", tags=["wholesale"]
    )
    IdentityFactory(customer=duplicate, kind="email", value="li.wei@example.com")
    kept = InteractionFactory(customer=survivor)
    moved = InteractionFactory(customer=duplicate)
    ticket = ticket_create(actor=cast.admin, subject="Parcel lost", customer=duplicate)

    merge = customer_merge(actor=cast.supervisor_a, survivor=survivor, duplicate=duplicate)

    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    ticket.refresh_from_db()
    assert duplicate.merged_into == survivor
    assert duplicate.merged_at is not None
    assert duplicate.identities.count() == 0
    assert customer_find_by_phone("13900000001") == survivor
    assert customer_find_by_identity("email", "li.wei@example.com") == survivor
    assert ticket.customer == survivor
    assert set(Interaction.objects.filter(customer=survivor)) >= {kept, moved}
    assert survivor.company == "ACME"
    assert survivor.vip_tier == "gold"
    assert survivor.tags == ["wholesale"]
    assert survivor.name == "Li Wei"
    assert merge.actor == cast.supervisor_a
    assert merge.moved["tickets.Ticket"] == [ticket.pk]
    assert moved.pk in merge.moved["customers.Interaction"]
    assert sorted(survivor.identities.values_list("value", "is_primary")) == [
        ("+8613812345678", True),
        ("+8613900000001", False),
        ("li.wei@example.com", True),
    ]


def test_merge_keeps_a_consent_refusal_from_either_record(cast):
    survivor = CustomerFactory(consent_recording=True, consent_marketing=True)
    duplicate = CustomerFactory(consent_recording=False, consent_marketing=True)

    customer_merge(actor=cast.admin, survivor=survivor, duplicate=duplicate)

    survivor.refresh_from_db()
    assert survivor.consent_recording is False
    assert survivor.consent_marketing is True


def test_merge_records_the_duplicates_profile_with_sensitive_fields_masked(cast):
    survivor = CustomerFactory()
    duplicate = CustomerFactory(name="Zhang Min", national_id="110101199003071234")

    merge = customer_merge(actor=cast.admin, survivor=survivor, duplicate=duplicate)

    assert merge.merged_profile["name"] == "Zhang Min"
    assert merge.merged_profile["national_id"] == "**************1234"
    entry = LogEntry.objects.get_for_object(survivor).latest("timestamp")
    assert "110101199003071234" not in str(entry.changes)


def test_a_merged_customer_is_a_tombstone_and_later_merges_follow_it(cast):
    first = CustomerFactory()
    second = CustomerFactory()
    third = CustomerFactory()
    customer_merge(actor=cast.admin, survivor=second, duplicate=first)

    customer_merge(actor=cast.admin, survivor=third, duplicate=second)

    first.refresh_from_db()
    assert first.merged_into == third
    interaction = interaction_record(actor=cast.admin, customer=first, channel="note")
    assert interaction.customer == third


@pytest.mark.parametrize("case", ["itself", "tombstone"])
def test_impossible_merges_are_refused_and_change_nothing(cast, case):
    survivor = customer_with_phone("+8613812345678")
    duplicate = customer_with_phone("+8613900000001")
    if case == "itself":
        duplicate, error = survivor, InvalidInput
    else:
        customer_merge(actor=cast.admin, survivor=CustomerFactory(), duplicate=duplicate)
        error = Conflict
    merges_before = CustomerMerge.objects.count()

    with pytest.raises(error):
        customer_merge(actor=cast.admin, survivor=survivor, duplicate=duplicate)

    assert CustomerMerge.objects.count() == merges_before
    assert customer_find_by_phone("13812345678") == survivor
    assert Customer.objects.get(pk=survivor.pk).merged_into is None
