"""Factories for customers and their timeline (used by the customers and tickets tests)."""

from __future__ import annotations

import factory
from django.utils import timezone

from apps.customers.models import Channel, Customer, CustomerIdentity, Direction, Interaction


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerIdentity

    customer = factory.SubFactory(CustomerFactory)
    kind = "phone"
    value = factory.Sequence(lambda n: f"+86138{n:08d}")
    is_primary = True


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    channel = Channel.CHAT
    direction = Direction.INBOUND
    occurred_at = factory.LazyFunction(timezone.now)
    summary = "Asked about an order"


def customer_with_phone(phone: str, **profile: object) -> Customer:
    """Return a new customer owning the phone number (given in E.164)."""
    customer = CustomerFactory(**profile)
    IdentityFactory(customer=customer, kind="phone", value=phone)
    return customer
