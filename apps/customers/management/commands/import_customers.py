from pathlib import Path

from auditlog.context import set_actor
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User
from apps.customers.csv_import import customer_import_csv


class Command(BaseCommand):
    help = (
        "Import customers from a CSV file. Nothing is imported when a row is invalid unless "
        "--skip-invalid is given; --dry-run only prints the report."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("path", type=Path)
        parser.add_argument("--skip-invalid", action="store_true")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--as-user", help="username recorded as the actor in the audit log")

    def handle(self, *args: object, **options: object) -> None:
        path = options["path"]
        assert isinstance(path, Path)
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        actor = None
        if options["as_user"]:
            actor = User.objects.filter(username=options["as_user"]).first()
            if actor is None:
                raise CommandError(f"No user {options['as_user']!r}.")
        with set_actor(actor):
            report = customer_import_csv(
                actor=actor,
                content=path.read_bytes(),
                skip_invalid=bool(options["skip_invalid"]),
                dry_run=bool(options["dry_run"]),
            )
        for issue in report.errors:
            self.stdout.write(f"row {issue.row}\t{issue.field}\t{issue.reason}")
        self.stdout.write(
            f"rows {report.total_rows}, created {report.created}, updated {report.updated}, "
            f"skipped {report.skipped}, " + ("imported" if report.committed else "NOTHING imported")
        )
        if report.errors and not report.committed and not report.dry_run:
            raise CommandError("Invalid rows: nothing was imported (see --skip-invalid).")
