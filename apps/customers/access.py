"""Object-level access to customers: missing and forbidden give the same NotFound."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from apps.core.errors import NotFound
from apps.customers.models import Customer, CustomerIdentity
from apps.customers.selectors import customer_list_visible


def access_customer_by_id(actor: Any, customer_id: object) -> Customer:
    """Return the customer (a merged tombstone too) if the actor may see customers."""
    customer = customer_list_visible(actor=actor).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("Customer not found."))
    return customer


def access_identity_by_id(actor: Any, customer: Customer, identity_id: object) -> CustomerIdentity:
    """Return one of the customer's identities."""
    identity = CustomerIdentity.objects.filter(customer=customer, pk=identity_id).first()
    if identity is None:
        raise NotFound(_("Identity not found."))
    return identity
