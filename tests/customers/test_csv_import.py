"""CSV import: every row is checked first; with one bad row nothing is imported unless the
operator chose to skip bad rows. The report names the row (header = row 1), field and reason."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from apps.customers.csv_import import ImportIssue, customer_import_csv
from apps.customers.models import Customer
from apps.customers.selectors import customer_find_by_identity, customer_find_by_phone
from tests.customers.factories import customer_with_phone

pytestmark = pytest.mark.django_db

GOOD_AND_BAD = (
    "name,phones,emails,vip_tier,tags,consent_marketing\n"
    "李伟,13812345678;010-12345678,li.wei@example.com,gold,wholesale;beijing,是\n"
    "Emma Brown,+1 415 555 0101,EMMA@example.com,platinum,,yes\n"
    "王芳,12,wang@example,,,maybe\n"
    "Noah Smith,+44 20 7946 0958,,standard,,no\n"
)


def test_a_bad_row_means_nothing_is_imported_and_every_problem_is_reported(cast):
    report = customer_import_csv(actor=cast.admin, content=GOOD_AND_BAD.encode())

    assert report.committed is False
    assert Customer.objects.count() == 0
    assert report.total_rows == 4
    assert report.errors == [
        ImportIssue(3, "vip_tier", "Unknown VIP tier."),
        ImportIssue(4, "consent_marketing", "Enter yes or no."),
        ImportIssue(4, "emails", "wang@example: Enter a valid e-mail address."),
        ImportIssue(4, "phones", "12: Enter a valid phone number."),
    ]


def test_skipping_bad_rows_imports_the_good_ones(cast):
    report = customer_import_csv(actor=cast.admin, content=GOOD_AND_BAD.encode(), skip_invalid=True)

    assert report.committed is True
    assert (report.created, report.updated, report.skipped) == (2, 0, 2)
    li = customer_find_by_phone("+86 10 1234 5678")
    assert li.name == "李伟"
    assert li.vip_tier == "gold"
    assert li.tags == ["wholesale", "beijing"]
    assert li.consent_marketing is True
    assert customer_find_by_identity("email", "li.wei@example.com") == li
    assert customer_find_by_phone("+442079460958").name == "Noah Smith"
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["Noah Smith", "李伟"]


def test_a_dry_run_reports_without_writing(cast):
    report = customer_import_csv(
        actor=cast.admin, content="name,phones\nLi,13812345678\n", dry_run=True
    )

    assert report.ok
    assert report.committed is False
    assert Customer.objects.count() == 0


def test_a_row_with_a_known_number_updates_that_customer(cast):
    existing = customer_with_phone("+8613812345678", name="Li", company="")

    report = customer_import_csv(
        actor=cast.admin,
        content="name,company,phones,emails\nLi Wei,ACME,138 1234 5678,li@example.com\n",
    )

    assert (report.created, report.updated) == (0, 1)
    existing.refresh_from_db()
    assert existing.name == "Li Wei"
    assert existing.company == "ACME"
    assert customer_find_by_identity("email", "li@example.com") == existing


def test_a_row_matching_two_customers_is_refused(cast):
    first = customer_with_phone("+8613812345678")
    second = customer_with_phone("+8613900000001")

    report = customer_import_csv(
        actor=cast.admin, content="name,phones\nBoth,13812345678;13900000001\n"
    )

    assert report.committed is False
    assert report.errors == [
        ImportIssue(
            2,
            "phones",
            f"The row matches several existing customers (#{first.pk}, #{second.pk}); "
            "merge them first.",
        )
    ]


def test_the_same_number_twice_in_the_file_is_reported_on_the_second_row(cast):
    report = customer_import_csv(
        actor=cast.admin, content="name,phones\nA,13812345678\nB,+86 138 1234 5678\n"
    )

    assert report.errors == [ImportIssue(3, "phones", "+8613812345678 also appears in row 2.")]
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "issue"),
    [
        ("name,fax\nLi,123\n", ImportIssue(1, "fax", "Unknown column.")),
        ("", ImportIssue(1, "file", "The file has no header row.")),
        ("name,phones\nLi\n", ImportIssue(2, "row", "Wrong number of cells.")),
        (
            "company\nACME\n",
            ImportIssue(2, "name", "A row needs a name, an external id or an identity."),
        ),
    ],
)
def test_malformed_files_are_reported(cast, content, issue):
    report = customer_import_csv(actor=cast.admin, content=content.encode())

    assert report.errors == [issue]
    assert Customer.objects.count() == 0


def test_a_file_that_is_not_utf8_is_refused(cast):
    report = customer_import_csv(actor=cast.admin, content="name\n李伟\n".encode("gbk"))

    assert report.errors == [ImportIssue(0, "file", "The file is not UTF-8 text.")]


def test_too_many_rows_are_refused(cast, settings):
    settings.CUSTOMERS_IMPORT_MAX_ROWS = 2

    report = customer_import_csv(actor=cast.admin, content=b"name\nA\nB\nC\n")

    assert report.errors == [ImportIssue(4, "file", "At most 2 rows per file.")]
    assert Customer.objects.count() == 0


def _upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("customers.csv", text.encode(), content_type="text/csv")


def test_the_import_endpoint_needs_the_import_permission(cast, client_as):
    users = {
        "anonymous": None,
        "agent": cast.agent_a1.user,
        "qa": cast.qa,
        "crm": cast.crm,
        "supervisor": cast.supervisor_a,
        "admin": cast.admin,
    }
    statuses = {}

    for position, (who, user) in enumerate(users.items()):
        response = client_as(user).post(
            "/api/v1/customers/import/",
            {"file": _upload(f"name,phones\n{who},1381234567{position}\n")},
            format="multipart",
        )
        statuses[who] = response.status_code

    assert statuses == {
        "anonymous": 401,
        "agent": 403,
        "qa": 403,
        "crm": 403,
        "supervisor": 200,
        "admin": 200,
    }
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["admin", "supervisor"]


def test_the_import_endpoint_answers_400_with_the_report_when_nothing_was_imported(cast, client_as):
    response = client_as(cast.supervisor_a).post(
        "/api/v1/customers/import/", {"file": _upload(GOOD_AND_BAD)}, format="multipart"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["committed"] is False
    assert body["errors"][0] == {"row": 3, "field": "vip_tier", "reason": "Unknown VIP tier."}
    assert Customer.objects.count() == 0


def test_the_import_endpoint_skips_bad_rows_when_asked(cast, client_as):
    response = client_as(cast.supervisor_a).post(
        "/api/v1/customers/import/",
        {"file": _upload(GOOD_AND_BAD), "skip_invalid": "true"},
        format="multipart",
    )

    assert response.status_code == 200
    assert (response.json()["created"], response.json()["skipped"]) == (2, 2)


def test_the_management_command_imports_nothing_on_error(cast, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_customers", str(path), stdout=out)

    assert "row 3\tvip_tier\tUnknown VIP tier." in out.getvalue()
    assert Customer.objects.count() == 0
    call_command("import_customers", str(path), "--skip-invalid", "--as-user", "admin", stdout=out)
    assert Customer.objects.count() == 2
