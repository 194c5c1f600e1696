"""Reads of customers and their timeline.

Customers are shared by the whole contact center (one picture of the customer, whichever team
answers): every role holding customers.view_customer sees every customer. Sensitive fields are only
ever returned masked by these reads; revealing one is a service that writes the access log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from apps.customers.models import Customer, CustomerIdentity, IdentityKind, Interaction
from apps.customers.normalize import identity_normalize, phone_normalize

TIMELINE_DEFAULT_LIMIT = 20
# The attribute holding a customer's identities when a selector loaded them with the customer.
IDENTITY_LIST = "identity_list"


def _follow_merges(customer: Customer | None) -> Customer | None:
    hops = 0
    while customer is not None and customer.merged_into_id is not None and hops < 20:
        customer = Customer.objects.filter(pk=customer.merged_into_id).first()
        hops += 1
    return customer


def _owner(kind: str, value: str) -> Customer | None:
    # get() rather than first(): no ORDER BY, so the plan is one probe of the unique index.
    try:
        return (
            CustomerIdentity.objects.select_related("customer").get(kind=kind, value=value).customer
        )
    except CustomerIdentity.DoesNotExist:
        return None


def customer_find_by_identity(kind: str, value: str | None) -> Customer | None:
    """Return the customer owning the identity (the raw value is normalised first), or None."""
    try:
        normalized = identity_normalize(kind, value)
    except ValueError:
        return None
    return _follow_merges(_owner(kind, normalized))


def customer_find_by_phone(raw: str | None) -> Customer | None:
    """Return the customer with this phone number in any format, or None."""
    phone = phone_normalize(raw)
    if phone is None:
        return None
    return customer_find_by_identity(IdentityKind.PHONE, phone)


def _owner_with_identities(kind: str, value: str) -> Customer | None:
    # One statement: the unique (kind, value) index finds the owner, its primary key the customer,
    # and the customer_id index all of its identities, each row carrying the customer.
    rows = list(
        CustomerIdentity.objects.filter(
            customer__identities__kind=kind, customer__identities__value=value
        ).select_related("customer")
    )
    if not rows:
        return None
    customer = rows[0].customer
    for identity in rows:
        identity.customer = customer
    setattr(customer, IDENTITY_LIST, rows)  # as Prefetch(to_attr=IDENTITY_LIST) would
    return customer


def customer_lookup(*, actor: Any, kind: str, value: str | None) -> Customer | None:
    """Return the visible customer owning the identity, with its identities loaded, or None.

    One indexed statement (identity -> customer -> its identities): the CRM lookup and the
    screen-pop call this on every contact. A merged duplicate's number leads to the survivor.
    """
    if not actor.has_perm("customers.view_customer"):
        return None
    try:
        normalized = identity_normalize(kind, value)
    except ValueError:
        return None
    customer = _owner_with_identities(kind, normalized)
    if customer is not None and customer.merged_into_id is not None:
        customer = _follow_merges(customer)
        if customer is not None:
            prefetch_related_objects([customer], Prefetch("identities", to_attr=IDENTITY_LIST))
    return customer


def customer_list_visible(*, actor: Any) -> QuerySet[Customer]:
    """Return the customers the actor may see: all of them with customers.view_customer."""
    if not actor.has_perm("customers.view_customer"):
        return Customer.objects.none()
    return Customer.objects.all()


def customers_with_identity(
    customers: QuerySet[Customer], kind: str, raw: str | None
) -> QuerySet[Customer]:
    """Narrow customers to the owner of one identity given in any format.

    A value that does not normalise matches nobody (rather than everybody).
    """
    try:
        value = identity_normalize(kind, raw)
    except ValueError:
        return customers.none()
    # A subquery on the unique (kind, value) index: one index probe whatever the table size.
    return customers.filter(
        pk__in=CustomerIdentity.objects.filter(kind=kind, value=value).values("customer_id")
    )


def customer_list(*, actor: Any, include_merged: bool = False) -> QuerySet[Customer]:
    """Return the visible customers (without merged tombstones) with their identities."""
    customers = customer_list_visible(actor=actor)
    if not include_merged:
        customers = customers.filter(merged_into__isnull=True)
    return customers.prefetch_related(
        Prefetch(
            "identities", queryset=CustomerIdentity.objects.order_by("kind", "-is_primary", "id")
        )
    )


def interaction_list(*, actor: Any, customer: Customer) -> QuerySet[Interaction]:
    """Return the customer's timeline, newest first, if the actor may read interactions."""
    if not actor.has_perm("customers.view_interaction"):
        return Interaction.objects.none()
    return Interaction.objects.filter(customer=customer).select_related("agent")


def interaction_timeline(
    *, customer_id: int, limit: int = TIMELINE_DEFAULT_LIMIT, before: dt.datetime | None = None
) -> list[Interaction]:
    """Return the customer's latest interactions for the screen-pop, newest first.

    One range scan of the (customer, -occurred_at, -id) index; no access check because the console
    calls it for the agent the call was offered to.
    """
    interactions = Interaction.objects.filter(customer_id=customer_id)
    if before is not None:
        interactions = interactions.filter(occurred_at__lt=before)
    return list(interactions.order_by("-occurred_at", "-id").select_related("agent")[:limit])
