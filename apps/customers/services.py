"""Writes for customers, their identities and their interaction timeline.

Audit: django-auditlog records every create/update/delete of customers and identities (sensitive
fields masked); a merge also writes a CustomerMerge row listing every moved row; revealing a masked
field writes the access log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.models import AccessLog
from apps.audit.services import access_log_record
from apps.core.crypto import mask_value
from apps.core.errors import Conflict, InvalidInput
from apps.customers.models import (
    VIP_TIER_RANK,
    Channel,
    Customer,
    CustomerIdentity,
    CustomerMerge,
    Direction,
    IdentityKind,
    Interaction,
    VipTier,
)
from apps.customers.normalize import (
    email_normalize,
    identity_normalize,
    opaque_id_normalize,
    phone_normalize,
)
from apps.customers.selectors import customer_find_by_phone

__all__ = [
    "IdentityInput",
    "customer_create",
    "customer_identity_add",
    "customer_identity_remove",
    "customer_merge",
    "customer_resolve_caller",
    "customer_reveal_sensitive",
    "customer_update",
    "email_normalize",
    "identity_normalize",
    "interaction_record",
    "interaction_record_call",
    "opaque_id_normalize",
    "phone_normalize",
]

# A caller we have never seen gets a customer record (with the number) so their history starts at
# the first call; settings.CUSTOMERS_AUTO_CREATE_CALLERS = False keeps unknown callers anonymous.
AUTO_CREATE_CALLERS = True

PROFILE_FIELDS = (
    "name",
    "company",
    "vip_tier",
    "language",
    "timezone",
    "tags",
    "consent_recording",
    "consent_marketing",
    "national_id",
    "bank_card",
    "notes",
    "external_id",
)


@dataclass(frozen=True)
class IdentityInput:
    """An identity to attach: the raw value is normalised by the service."""

    kind: str
    value: str
    label: str = ""
    is_primary: bool = False


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        text = str(tag).strip()[:50]
        if text and text not in cleaned:
            cleaned.append(text)
    return cleaned


def _validate_profile(changes: dict[str, Any], *, customer_id: int | None = None) -> dict[str, Any]:
    if "vip_tier" in changes and changes["vip_tier"] not in VipTier.values:
        raise InvalidInput(_("Unknown VIP tier."), field="vip_tier")
    if "language" in changes and changes["language"] not in (
        "",
        *[code for code, _name in settings.LANGUAGES],
    ):
        raise InvalidInput(_("Unknown language."), field="language")
    if changes.get("timezone"):
        import zoneinfo

        if changes["timezone"] not in zoneinfo.available_timezones():
            raise InvalidInput(_("Unknown time zone."), field="timezone")
    if "tags" in changes:
        changes["tags"] = _clean_tags(changes["tags"] or [])
    for field in ("name", "company", "external_id", "national_id", "bank_card", "notes"):
        if field in changes:
            changes[field] = (changes[field] or "").strip()
    if changes.get("external_id"):
        taken = Customer.objects.filter(external_id=changes["external_id"])
        if customer_id is not None:
            taken = taken.exclude(pk=customer_id)
        if taken.exists():
            raise Conflict(
                _("Another customer has this external id."),
                field="external_id",
                code="external_id_taken",
            )
    return changes


def _normalized_identities(identities: Iterable[IdentityInput]) -> list[IdentityInput]:
    result: list[IdentityInput] = []
    seen: set[tuple[str, str]] = set()
    for identity in identities:
        try:
            value = identity_normalize(identity.kind, identity.value)
        except ValueError as exc:
            raise InvalidInput(str(exc), field=_identity_field(identity.kind)) from exc
        if (identity.kind, value) in seen:
            continue
        seen.add((identity.kind, value))
        result.append(
            IdentityInput(
                kind=identity.kind,
                value=value,
                label=identity.label.strip()[:50],
                is_primary=identity.is_primary,
            )
        )
    return result


def _identity_field(kind: str) -> str:
    return {IdentityKind.PHONE: "phones", IdentityKind.EMAIL: "emails"}.get(kind, "identities")


def _attach_identity(customer: Customer, identity: IdentityInput) -> CustomerIdentity:
    owner = (
        CustomerIdentity.objects.select_for_update()
        .filter(kind=identity.kind, value=identity.value)
        .first()
    )
    if owner is not None:
        if owner.customer_id != customer.pk:
            raise Conflict(
                _("%(value)s already belongs to customer #%(id)s.")
                % {"value": identity.value, "id": owner.customer_id},
                field=_identity_field(identity.kind),
                code="identity_taken",
            )
        return owner
    has_primary = CustomerIdentity.objects.filter(
        customer=customer, kind=identity.kind, is_primary=True
    ).exists()
    if identity.is_primary and has_primary:
        CustomerIdentity.objects.filter(
            customer=customer, kind=identity.kind, is_primary=True
        ).update(is_primary=False)
    try:
        with transaction.atomic():
            return CustomerIdentity.objects.create(
                customer=customer,
                kind=identity.kind,
                value=identity.value,
                label=identity.label,
                is_primary=identity.is_primary or not has_primary,
            )
    except IntegrityError as exc:  # a concurrent request attached it first
        raise Conflict(
            _("%(value)s already belongs to another customer.") % {"value": identity.value},
            field=_identity_field(identity.kind),
            code="identity_taken",
        ) from exc


def _refuse_tombstone(customer: Customer) -> None:
    if customer.merged_into_id is not None:
        raise Conflict(
            _("This customer was merged into customer #%(id)s.") % {"id": customer.merged_into_id},
            code="customer_merged",
        )


@transaction.atomic
def customer_create(
    *,
    actor: Any,
    identities: Sequence[IdentityInput] = (),
    **profile: Any,
) -> Customer:
    """Create a customer with its profile and identities; refuse identities another customer has."""
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown field."), field=sorted(unknown)[0])
    profile = _validate_profile(dict(profile))
    normalized = _normalized_identities(identities)
    customer = Customer.objects.create(**profile)
    for identity in normalized:
        _attach_identity(customer, identity)
    return customer


@transaction.atomic
def customer_update(*, actor: Any, customer: Customer, **changes: Any) -> Customer:
    """Change the customer's profile fields; a merged customer cannot change."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown field."), field=sorted(unknown)[0])
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    _refuse_tombstone(customer)
    changes = _validate_profile(dict(changes), customer_id=customer.pk)
    changed = [field for field, value in changes.items() if getattr(customer, field) != value]
    for field in changed:
        setattr(customer, field, changes[field])
    if changed:
        customer.save(update_fields=[*changed, "updated_at"])
    return customer


@transaction.atomic
def customer_identity_add(
    *,
    actor: Any,
    customer: Customer,
    kind: str,
    value: str,
    label: str = "",
    is_primary: bool = False,
) -> CustomerIdentity:
    """Attach an identity to the customer (idempotent); refuse one another customer has."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    _refuse_tombstone(customer)
    (identity,) = _normalized_identities(
        [IdentityInput(kind=kind, value=value, label=label, is_primary=is_primary)]
    )
    return _attach_identity(customer, identity)


@transaction.atomic
def customer_identity_remove(*, actor: Any, identity: CustomerIdentity) -> None:
    """Detach an identity; the customer's next identity of that kind becomes primary."""
    customer_id, kind, was_primary = identity.customer_id, identity.kind, identity.is_primary
    identity.delete()
    if was_primary:
        successor = (
            CustomerIdentity.objects.filter(customer_id=customer_id, kind=kind)
            .order_by("id")
            .first()
        )
        if successor is not None:
            successor.is_primary = True
            successor.save(update_fields=["is_primary"])


def _profile_snapshot(customer: Customer) -> dict[str, Any]:
    snapshot = {field: getattr(customer, field) for field in PROFILE_FIELDS}
    for field in Customer.SENSITIVE_FIELDS:
        snapshot[field] = mask_value(snapshot[field])
    return snapshot


def _merge_profiles(survivor: Customer, duplicate: Customer) -> list[str]:
    """Complete the survivor from the duplicate. Consents: a refusal on either record wins."""
    changed: list[str] = []
    for field in ("name", "company", "language", "timezone", "national_id", "bank_card"):
        if not getattr(survivor, field) and getattr(duplicate, field):
            setattr(survivor, field, getattr(duplicate, field))
            changed.append(field)
    if VIP_TIER_RANK[duplicate.vip_tier] > VIP_TIER_RANK[survivor.vip_tier]:
        survivor.vip_tier = duplicate.vip_tier
        changed.append("vip_tier")
    tags = _clean_tags([*survivor.tags, *duplicate.tags])
    if tags != survivor.tags:
        survivor.tags = tags
        changed.append("tags")
    for field in ("consent_recording", "consent_marketing"):
        value = getattr(survivor, field) and getattr(duplicate, field)
        if value != getattr(survivor, field):
            setattr(survivor, field, value)
            changed.append(field)
    if duplicate.notes:
        survivor.notes = f"{survivor.notes}\n\n{duplicate.notes}".strip()
        changed.append("notes")
    return changed


def _move_related_rows(*, source: Customer, target: Customer) -> dict[str, list[Any]]:
    """Point every foreign key to the source customer at the target, in any installed app.

    Walking the model graph means tickets, calls or any later app's rows follow the survivor
    without this app importing them.
    """
    moved: dict[str, list[Any]] = {}
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if not relation.one_to_many or model in (Customer, CustomerMerge):
            continue
        rows = model._base_manager.filter(**{relation.field.name: source})
        ids = sorted(rows.values_list("pk", flat=True))
        if ids:
            model._base_manager.filter(pk__in=ids).update(**{relation.field.name: target})
            moved[model._meta.label] = ids
    return moved


@transaction.atomic
def customer_merge(*, actor: Any, survivor: Customer, duplicate: Customer) -> CustomerMerge:
    """Merge the duplicate into the survivor and keep the duplicate as a tombstone.

    Identities, interactions, tickets and every other row pointing at the duplicate move to the
    survivor; blank profile fields are completed from the duplicate; the merge is recorded.
    """
    if survivor.pk == duplicate.pk:
        raise InvalidInput(_("A customer cannot be merged into itself."), field="duplicate")
    locked = {
        customer.pk: customer
        for customer in Customer.objects.select_for_update()
        .filter(pk__in=[survivor.pk, duplicate.pk])
        .order_by("pk")
    }
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    _refuse_tombstone(survivor)
    _refuse_tombstone(duplicate)
    snapshot = _profile_snapshot(duplicate)
    survivor_primary_kinds = set(
        survivor.identities.filter(is_primary=True).values_list("kind", flat=True)
    )
    try:
        with transaction.atomic():
            moved = _move_related_rows(source=duplicate, target=survivor)
    except IntegrityError as exc:
        raise Conflict(
            _("The duplicate's records cannot move to the survivor: %(reason)s") % {"reason": exc},
            code="merge_conflict",
        ) from exc
    # One primary identity per kind: the survivor's stay primary.
    CustomerIdentity.objects.filter(
        pk__in=moved.get(CustomerIdentity._meta.label, []), kind__in=survivor_primary_kinds
    ).update(is_primary=False)
    Customer.objects.filter(merged_into=duplicate).update(merged_into=survivor)
    changed = _merge_profiles(survivor, duplicate)
    if duplicate.external_id and not survivor.external_id:
        survivor.external_id = duplicate.external_id
        changed.append("external_id")
    duplicate.external_id = ""
    duplicate.merged_into = survivor
    duplicate.merged_at = timezone.now()
    duplicate.save(update_fields=["external_id", "merged_into", "merged_at", "updated_at"])
    survivor.save(update_fields=[*changed, "updated_at"])
    return CustomerMerge.objects.create(
        survivor=survivor,
        merged=duplicate,
        actor=actor if getattr(actor, "pk", None) else None,
        moved=moved,
        merged_profile=snapshot,
    )


@transaction.atomic
def customer_reveal_sensitive(
    *, actor: Any, customer: Customer, field: str, request: HttpRequest | None = None
) -> str:
    """Return a sensitive field in clear and record the reveal in the access log."""
    if field not in Customer.SENSITIVE_FIELDS:
        raise InvalidInput(_("This field cannot be revealed."), field="field")
    access_log_record(
        actor=actor,
        action=AccessLog.Action.REVEAL_FIELD,
        target=customer,
        field=field,
        request=request,
    )
    return getattr(customer, field)


def _survivor(customer: Customer) -> Customer:
    hops = 0
    while customer.merged_into_id is not None and hops < 20:
        customer = Customer.objects.get(pk=customer.merged_into_id)
        hops += 1
    return customer


@transaction.atomic
def interaction_record(
    *,
    actor: Any,
    customer: Customer,
    channel: str,
    direction: str = Direction.INBOUND,
    occurred_at: dt.datetime | None = None,
    summary: str = "",
    refs: dict[str, Any] | None = None,
    call_uuid: str = "",
    agent: Any = None,
) -> Interaction:
    """Add one contact to the customer's timeline (a merged customer's goes to its survivor)."""
    if channel not in Channel.values:
        raise InvalidInput(_("Unknown channel."), field="channel")
    if direction not in Direction.values:
        raise InvalidInput(_("Unknown direction."), field="direction")
    refs = dict(refs or {})
    if call_uuid:
        refs.setdefault("call_uuid", call_uuid)
    return Interaction.objects.create(
        customer=_survivor(customer),
        channel=channel,
        direction=direction,
        occurred_at=occurred_at or timezone.now(),
        summary=summary[:500],
        call_uuid=call_uuid,
        refs=refs,
        agent=agent,
    )


@transaction.atomic
def customer_resolve_caller(
    *, caller_number: str | None, create: bool | None = None
) -> Customer | None:
    """Return the customer calling from this number; optionally create one for a new number.

    Withheld or invalid numbers give None. `create` defaults to settings
    CUSTOMERS_AUTO_CREATE_CALLERS (True).
    """
    phone = phone_normalize(caller_number)
    if phone is None:
        return None
    customer = customer_find_by_phone(phone)
    if customer is not None:
        return customer
    if create is None:
        create = getattr(settings, "CUSTOMERS_AUTO_CREATE_CALLERS", AUTO_CREATE_CALLERS)
    if not create:
        return None
    try:
        with transaction.atomic():
            customer = Customer.objects.create()
            CustomerIdentity.objects.create(
                customer=customer, kind=IdentityKind.PHONE, value=phone, is_primary=True
            )
    except IntegrityError:  # the same new caller on two calls at once: use the other's record
        return customer_find_by_phone(phone)
    return customer


@transaction.atomic
def interaction_record_call(
    *,
    call_uuid: str,
    started_at: dt.datetime,
    ended_at: dt.datetime | None = None,
    answered_at: dt.datetime | None = None,
    caller_number: str | None = None,
    customer: Customer | None = None,
    direction: str = Direction.INBOUND,
    agent: Any = None,
    queue: str = "",
    hangup_cause: str = "",
    summary: str = "",
) -> Interaction | None:
    """Record a finished call on its customer's timeline, once per call uuid.

    Meant for the telephony `call.hungup` event. The customer is the one given, else the caller
    resolved by number (created for a new number, see customer_resolve_caller). Return None for an
    anonymous caller; return the existing interaction when the call was already recorded.
    """
    if not call_uuid:
        raise InvalidInput(_("A call uuid is required."), field="call_uuid")
    existing = Interaction.objects.filter(channel=Channel.CALL, call_uuid=call_uuid).first()
    if existing is not None:
        return existing
    if customer is None:
        customer = customer_resolve_caller(caller_number=caller_number)
    if customer is None:
        return None
    refs: dict[str, Any] = {"call_uuid": call_uuid, "answered": answered_at is not None}
    if ended_at is not None:
        refs["duration_seconds"] = max(0, int((ended_at - started_at).total_seconds()))
    if answered_at is not None and ended_at is not None:
        refs["talk_seconds"] = max(0, int((ended_at - answered_at).total_seconds()))
    if queue:
        refs["queue"] = queue
    if hangup_cause:
        refs["hangup_cause"] = hangup_cause
    if caller_number:
        refs["caller_number"] = caller_number
    try:
        with transaction.atomic():
            return Interaction.objects.create(
                customer=_survivor(customer),
                channel=Channel.CALL,
                direction=direction,
                occurred_at=started_at,
                summary=summary[:500],
                call_uuid=call_uuid,
                refs=refs,
                agent=agent,
            )
    except IntegrityError:  # the event was delivered twice at once
        return Interaction.objects.get(channel=Channel.CALL, call_uuid=call_uuid)
