"""Reads of IVR paths: a call's path for the screen-pop, and where callers give up."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet

from apps.ivr.models import IvrPath


def ivr_path_list_visible(*, actor: Any) -> QuerySet[IvrPath]:
    """Return the paths the actor may report on (ivr.view_ivrpath)."""
    if not actor.has_perm("ivr.view_ivrpath"):
        return IvrPath.objects.none()
    return IvrPath.objects.all()


def ivr_path_summary(*, path_ref: int | str) -> dict[str, Any] | None:
    """Return the path a call took, for the screen-pop (by cc_ivr_path or call uuid).

    Not scoped: the caller (the screen-pop service) has already checked access to the call.
    """
    paths = IvrPath.objects.select_related("flow")
    text = str(path_ref)
    path = paths.filter(pk=int(text)).first() if text.isdigit() else None
    if path is None:
        path = paths.filter(call_uuid=text).first()
    if path is None:
        return None
    steps = list(path.steps.order_by("seq").values("node", "event", "detail", "elapsed_ms"))
    menu_choices = [step["detail"] for step in steps if step["event"] == "input"]
    return {
        "id": path.pk,
        "call_uuid": path.call_uuid,
        "flow": path.flow.name if path.flow else "",
        "language": path.language,
        "outcome": path.outcome,
        "queue": path.queue,
        "attributes": path.attributes,
        "choices": menu_choices,
        "duration_ms": steps[-1]["elapsed_ms"] if steps else 0,
        "steps": steps,
    }


def ivr_abandon_points(
    *,
    actor: Any,
    flow_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Return where callers hung up in the IVR: per flow and last node, most first.

    Each row: flow id and name, node, abandoned count, calls that reached the flow in the
    period, and the share of those calls that gave up at that node.
    """
    paths = ivr_path_list_visible(actor=actor)
    if flow_id is not None:
        paths = paths.filter(flow_id=flow_id)
    if since is not None:
        paths = paths.filter(started_at__gte=since)
    if until is not None:
        paths = paths.filter(started_at__lt=until)
    totals = {
        row["flow_id"]: row["calls"] for row in paths.values("flow_id").annotate(calls=Count("id"))
    }
    rows = (
        paths.filter(outcome=IvrPath.Outcome.ABANDONED)
        .values("flow_id", "flow__name", "last_node")
        .annotate(abandoned=Count("id"))
        .order_by("-abandoned", "flow__name", "last_node")
    )
    report = []
    for row in rows:
        calls = totals.get(row["flow_id"], 0)
        report.append(
            {
                "flow_id": row["flow_id"],
                "flow": row["flow__name"] or "",
                "node": row["last_node"],
                "abandoned": row["abandoned"],
                "calls": calls,
                "share": round(row["abandoned"] / calls, 4) if calls else 0.0,
            }
        )
    return report


def ivr_outcome_counts(*, actor: Any, flow_id: int | None = None) -> dict[str, int]:
    """Return how many paths ended in each outcome."""
    paths = ivr_path_list_visible(actor=actor)
    if flow_id is not None:
        paths = paths.filter(flow_id=flow_id)
    counts = paths.aggregate(
        **{outcome: Count("id", filter=Q(outcome=outcome)) for outcome in IvrPath.Outcome.values}
    )
    return {key: value for key, value in counts.items() if value}
