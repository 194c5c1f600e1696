"""Attachments: allowed types only, content must match the type, size limited, downloads checked
like the ticket itself."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.tickets.models import TicketAttachment
from apps.tickets.services import ticket_create

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def ticket(cast, policy):
    return ticket_create(actor=cast.admin, subject="Damaged parcel", team=cast.team_a)


def _upload(client, ticket, name, content, content_type="application/octet-stream"):
    return client.post(
        f"/api/v1/tickets/{ticket.pk}/attachments/",
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        format="multipart",
    )


def test_upload_an_attachment(cast, client_as, ticket):
    users = {
        "anonymous": None,
        "qa": cast.qa,
        "agent_b1": cast.agent_b1.user,
        "agent_a1": cast.agent_a1.user,
        "crm": cast.crm,
    }
    statuses = {}

    for who, user in users.items():
        response = _upload(client_as(user), ticket, f"invoice-{who}.PDF", PDF)
        statuses[who] = response.status_code
        if response.status_code == 201:
            body = response.json()
            assert (body["filename"], body["content_type"], body["size"]) == (
                f"invoice-{who}.PDF",
                "application/pdf",
                len(PDF),
            )

    assert statuses == {"anonymous": 401, "qa": 403, "agent_b1": 404, "agent_a1": 201, "crm": 201}
    assert sorted(TicketAttachment.objects.values_list("filename", flat=True)) == [
        "invoice-agent_a1.PDF",
        "invoice-crm.PDF",
    ]


REFUSED = [
    ("setup.exe", b"MZ\x90\x00", "Files of type .exe are not accepted."),
    ("photo.png", b"<script>alert(1)</script>", "The file's content does not match its type."),
    ("report.pdf", PNG, "The file's content does not match its type."),
    ("notes.txt", b"\x00\x01\x02binary", "The file's content does not match its type."),
    ("empty.txt", b"", "The submitted file is empty."),
    ("noextension", b"hello", "Files of type ? are not accepted."),
]


def test_refused_uploads_say_why_and_store_nothing(cast, client_as, ticket):
    client = client_as(cast.agent_a1.user)

    answers = [
        (response.status_code, response.json()["error"]["fields"]["file"])
        for response in (_upload(client, ticket, name, content) for name, content, _ in REFUSED)
    ]

    assert answers == [(400, [reason]) for _, _, reason in REFUSED]
    assert TicketAttachment.objects.count() == 0


def test_the_size_limit_comes_from_settings(cast, client_as, ticket, settings):
    settings.TICKETS_ATTACHMENT_MAX_BYTES = 1024

    response = _upload(client_as(cast.agent_a1.user), ticket, "log.txt", b"x" * 1025)

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["file"] == ["The file is larger than 1 KiB."]
    assert TicketAttachment.objects.count() == 0


def test_chinese_text_files_are_text(cast, client_as, ticket):
    response = _upload(client_as(cast.agent_a1.user), ticket, "记录.txt", "快递丢失".encode())

    assert response.status_code == 201


def test_download_is_checked_like_the_ticket(cast, client_as, ticket):
    attachment_id = _upload(client_as(cast.admin), ticket, "photo.png", PNG).json()["id"]
    users = {
        "anonymous": None,
        "agent_b1": cast.agent_b1.user,
        "qa": cast.qa,
        "agent_a1": cast.agent_a1.user,
    }
    statuses = {}

    for who, user in users.items():
        response = client_as(user).get(
            f"/api/v1/tickets/{ticket.pk}/attachments/{attachment_id}/download/"
        )
        statuses[who] = response.status_code
        if response.status_code == 200:
            assert b"".join(response.streaming_content) == PNG
            assert response["Content-Type"] == "image/png"
            assert response["Content-Disposition"] == 'attachment; filename="photo.png"'

    assert statuses == {"anonymous": 401, "agent_b1": 404, "qa": 200, "agent_a1": 200}
