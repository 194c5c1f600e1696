"""Demo disposition codes: a few for every queue, and a sales-only one when that queue exists."""

from __future__ import annotations

from django.db import transaction

from apps.console.integrations import model
from apps.console.models import DispositionCode

GLOBAL_CODES = [
    # (code, label, position, requires notes)
    ("resolved", "Resolved / 已解决", 1, False),
    ("follow-up", "Needs follow-up / 需跟进", 2, True),
    ("information", "Information given / 已告知信息", 3, False),
    ("complaint", "Complaint / 投诉", 4, True),
    ("wrong-number", "Wrong number / 打错电话", 5, False),
]
SALES_CODES = [("sale", "Sale made / 已成交", 0, False)]


@transaction.atomic
def seed() -> list[str]:
    """Create the demo disposition codes (idempotent); return what was created."""
    created: list[str] = []
    for code, label, position, requires_notes in GLOBAL_CODES:
        _code, was_created = DispositionCode.objects.get_or_create(
            queue=None,
            code=code,
            defaults={"label": label, "position": position, "requires_notes": requires_notes},
        )
        if was_created:
            created.append(f"disposition {code}")
    queue_model = model("routing.Queue")
    sales = queue_model.objects.filter(slug="sales").first() if queue_model is not None else None
    if sales is not None:
        for code, label, position, requires_notes in SALES_CODES:
            _code, was_created = DispositionCode.objects.get_or_create(
                queue=sales,
                code=code,
                defaults={"label": label, "position": position, "requires_notes": requires_notes},
            )
            if was_created:
                created.append(f"disposition {code} (sales)")
    return created
