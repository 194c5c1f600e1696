"""Reads of calls, always scoped by the acting user."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from apps.accounts.models import User
from apps.accounts.selectors import team_list_supervised
from apps.rbac import roles
from apps.rbac.services import user_has_role, user_is_admin
from apps.telephony.models import Call, CallLeg


def call_list_visible(*, actor: User) -> QuerySet[Call]:
    """Return the calls the actor may see.

    Administrators and API clients (CRMs): every call; supervisors: calls one of their teams'
    agents took part in; agents: calls they took part in; anyone else: none.
    """
    calls = Call.objects.select_related("node")
    if user_is_admin(actor) or user_has_role(actor, roles.API_CLIENT):
        return calls.all()
    if user_has_role(actor, roles.SUPERVISOR):
        legs = CallLeg.objects.filter(
            call=OuterRef("pk"), agent__team__in=team_list_supervised(actor=actor)
        )
        return calls.filter(Exists(legs))
    if user_has_role(actor, roles.AGENT):
        return calls.filter(Exists(CallLeg.objects.filter(call=OuterRef("pk"), agent__user=actor)))
    return calls.none()
