"""Import customers from CSV with a validation report.

Every row is validated before anything is written. With errors, nothing is imported unless the
operator chose to skip the bad rows; a dry run only reports. A row updates the customer it names by
`external_id`, else the customer owning one of its identities, else creates a new one.

Columns (header row, case-insensitive, any order; only `name` or one identity is required):
    name, company, vip_tier, language, timezone, tags, phones, emails, wechat, whatsapp, web,
    consent_recording, consent_marketing, national_id, bank_card, external_id, notes
Several values in one cell (tags, phones, emails...) are separated by ";".
Rows are numbered like a spreadsheet: the header is row 1.
"""

from __future__ import annotations

import csv
import io
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from apps.customers.models import Customer, CustomerIdentity, IdentityKind, VipTier
from apps.customers.normalize import identity_normalize
from apps.customers.services import (
    IdentityInput,
    customer_create,
    customer_identity_add,
    customer_update,
)

# Defaults, overridable with settings.CUSTOMERS_IMPORT_MAX_ROWS / CUSTOMERS_IMPORT_MAX_BYTES.
IMPORT_MAX_ROWS = 20_000
IMPORT_MAX_BYTES = 10 * 1024 * 1024

IDENTITY_COLUMNS = {
    "phones": IdentityKind.PHONE,
    "emails": IdentityKind.EMAIL,
    "wechat": IdentityKind.WECHAT,
    "whatsapp": IdentityKind.WHATSAPP,
    "web": IdentityKind.WEB,
}
_SEPARATOR = re.compile(r"[;；]")
_TRUE = {"1", "true", "yes", "y", "是"}
_FALSE = {"0", "false", "no", "n", "否"}


@dataclass(frozen=True)
class ImportIssue:
    row: int
    field: str
    reason: str


@dataclass
class ImportReport:
    """What an import found and did. `committed` is False when nothing was written."""

    total_rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    committed: bool = False
    dry_run: bool = False
    errors: list[ImportIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "errors": [asdict(issue) for issue in self.errors]}


@dataclass
class _Row:
    number: int
    profile: dict[str, Any]
    identities: list[IdentityInput]
    target_id: int | None = None


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _split(cell: str) -> list[str]:
    return [part.strip() for part in _SEPARATOR.split(cell) if part.strip()]


def _text(limit: int | None) -> Callable[[str], str]:
    def parse(cell: str) -> str:
        if limit is not None and len(cell) > limit:
            raise ValueError(_("At most %(limit)s characters.") % {"limit": limit})
        return cell

    return parse


def _tier(cell: str) -> str:
    if cell.lower() not in VipTier.values:
        raise ValueError(_("Unknown VIP tier."))
    return cell.lower()


def _language(cell: str) -> str:
    if cell.lower() not in [code for code, _name in settings.LANGUAGES]:
        raise ValueError(_("Unknown language."))
    return cell.lower()


def _timezone(cell: str) -> str:
    if cell not in zoneinfo.available_timezones():
        raise ValueError(_("Unknown time zone."))
    return cell


def _yes_no(cell: str) -> bool:
    text = cell.lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(_("Enter yes or no."))


# Profile column -> parser of a non-empty cell (raises ValueError with the reason).
_PROFILE_PARSERS: dict[str, Callable[[str], Any]] = {
    "name": _text(200),
    "company": _text(200),
    "vip_tier": _tier,
    "language": _language,
    "timezone": _timezone,
    "tags": _split,
    "consent_recording": _yes_no,
    "consent_marketing": _yes_no,
    "national_id": _text(64),
    "bank_card": _text(64),
    "external_id": _text(100),
    "notes": _text(None),
}


COLUMNS = (*_PROFILE_PARSERS, *IDENTITY_COLUMNS)


def _parse_row(number: int, record: dict[str, str]) -> tuple[_Row, list[ImportIssue]]:
    issues: list[ImportIssue] = []
    profile: dict[str, Any] = {}
    for column, parse in _PROFILE_PARSERS.items():
        cell = record.get(column, "").strip()
        if not cell:
            continue
        try:
            profile[column] = parse(cell)
        except ValueError as exc:
            issues.append(ImportIssue(number, column, str(exc)))
    identities: list[IdentityInput] = []
    for column, kind in IDENTITY_COLUMNS.items():
        for position, raw in enumerate(_split(record.get(column, ""))):
            try:
                value = identity_normalize(kind, raw)
            except ValueError as exc:
                issues.append(ImportIssue(number, column, f"{raw}: {exc}"))
                continue
            identities.append(IdentityInput(kind=kind, value=value, is_primary=position == 0))
    if not profile.get("name") and not identities and not profile.get("external_id"):
        issues.append(
            ImportIssue(number, "name", _("A row needs a name, an external id or an identity."))
        )
    return _Row(number=number, profile=profile, identities=identities), issues


def _resolve_targets(rows: list[_Row]) -> list[ImportIssue]:
    """Find which existing customer each row updates; report rows that point at two."""
    issues: list[ImportIssue] = []
    wanted: dict[str, set[str]] = {}
    for row in rows:
        for identity in row.identities:
            wanted.setdefault(identity.kind, set()).add(identity.value)
    owners: dict[tuple[str, str], int] = {}
    for kind, values in wanted.items():
        for value, customer_id in CustomerIdentity.objects.filter(
            kind=kind, value__in=values
        ).values_list("value", "customer_id"):
            owners[(kind, value)] = customer_id
    external_ids = [row.profile["external_id"] for row in rows if row.profile.get("external_id")]
    by_external = dict(
        Customer.objects.filter(external_id__in=external_ids).values_list("external_id", "pk")
    )
    first_seen: dict[tuple[str, str], int] = {}
    for row in rows:
        candidates: set[int] = set()
        if row.profile.get("external_id") in by_external:
            candidates.add(by_external[row.profile["external_id"]])
        for identity in row.identities:
            key = (identity.kind, identity.value)
            if key in first_seen:
                issues.append(
                    ImportIssue(
                        row.number,
                        _column_of(identity.kind),
                        _("%(value)s also appears in row %(row)s.")
                        % {"value": identity.value, "row": first_seen[key]},
                    )
                )
            else:
                first_seen[key] = row.number
            if key in owners:
                candidates.add(owners[key])
        if len(candidates) > 1:
            issues.append(
                ImportIssue(
                    row.number,
                    "external_id" if row.profile.get("external_id") else "phones",
                    _("The row matches several existing customers (%(ids)s); merge them first.")
                    % {"ids": ", ".join(f"#{pk}" for pk in sorted(candidates))},
                )
            )
        elif candidates:
            row.target_id = candidates.pop()
    return issues


def _column_of(kind: str) -> str:
    return next(column for column, value in IDENTITY_COLUMNS.items() if value == kind)


def _read(content: bytes | str) -> tuple[list[tuple[int, dict[str, str]]], list[ImportIssue]]:
    if isinstance(content, bytes):
        if len(content) > _limit("CUSTOMERS_IMPORT_MAX_BYTES", IMPORT_MAX_BYTES):
            return [], [ImportIssue(0, "file", _("The file is too large."))]
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            return [], [ImportIssue(0, "file", _("The file is not UTF-8 text."))]
    else:
        text = content.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        return [], [ImportIssue(1, "file", _("The file has no header row."))]
    columns = [column.strip().lower() for column in header]
    unknown = [column for column in columns if column not in COLUMNS]
    if unknown:
        return [], [ImportIssue(1, column, _("Unknown column.")) for column in unknown]
    records: list[tuple[int, dict[str, str]]] = []
    max_rows = _limit("CUSTOMERS_IMPORT_MAX_ROWS", IMPORT_MAX_ROWS)
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(records) >= max_rows:
            return [], [
                ImportIssue(number, "file", _("At most %(max)s rows per file.") % {"max": max_rows})
            ]
        if len(cells) != len(columns):
            records.append((number, {"__width__": str(len(cells))}))
            continue
        records.append((number, dict(zip(columns, cells, strict=True))))
    return records, []


def customer_import_csv(
    *, actor: Any, content: bytes | str, skip_invalid: bool = False, dry_run: bool = False
) -> ImportReport:
    """Validate every row, then import all of them, or none when a row is invalid.

    With skip_invalid the valid rows are imported and the bad ones reported as skipped.
    """
    report = ImportReport(dry_run=dry_run)
    records, file_issues = _read(content)
    if file_issues:
        report.errors = file_issues
        return report
    report.total_rows = len(records)
    rows: list[_Row] = []
    issues: list[ImportIssue] = []
    for number, record in records:
        if "__width__" in record:
            issues.append(ImportIssue(number, "row", _("Wrong number of cells.")))
            continue
        row, row_issues = _parse_row(number, record)
        issues.extend(row_issues)
        if not row_issues:
            rows.append(row)
    issues.extend(_resolve_targets(rows))
    report.errors = sorted(issues, key=lambda issue: (issue.row, issue.field))
    bad_rows = {issue.row for issue in issues}
    good_rows = [row for row in rows if row.number not in bad_rows]
    report.skipped = len(records) - len(good_rows) if skip_invalid else 0
    if dry_run or (issues and not skip_invalid):
        return report
    with transaction.atomic():
        for row in good_rows:
            _write_row(actor, row, report)
    report.committed = True
    return report


def _write_row(actor: Any, row: _Row, report: ImportReport) -> None:
    if row.target_id is None:
        customer_create(actor=actor, identities=row.identities, **row.profile)
        report.created += 1
        return
    customer = Customer.objects.get(pk=row.target_id)
    customer_update(actor=actor, customer=customer, **row.profile)
    for identity in row.identities:
        customer_identity_add(
            actor=actor,
            customer=customer,
            kind=identity.kind,
            value=identity.value,
            is_primary=False,
        )
    report.updated += 1
