"""Object-level access to calls: missing and forbidden give the same NotFound."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import NotFound
from apps.telephony.models import Call, CallLeg, CallRecording, Cdr
from apps.telephony.selectors import call_list_visible


def access_call_by_id(actor: User, call_id: object) -> Call:
    """Return the call with its legs, CDRs and recordings if the actor may see it."""
    call = (
        call_list_visible(actor=actor)
        .prefetch_related(
            Prefetch("legs", queryset=CallLeg.objects.order_by("started_at", "id")),
            Prefetch("cdrs", queryset=Cdr.objects.order_by("started_at", "id")),
            Prefetch("recordings", queryset=CallRecording.objects.order_by("started_at", "id")),
        )
        .filter(pk=call_id)
        .first()
    )
    if call is None:
        raise NotFound(_("Call not found."))
    return call
