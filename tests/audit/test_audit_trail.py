"""Changes are audited with actor and address; sensitive reads land in an append-only access log."""

import pytest
from auditlog.models import LogEntry
from django.db import DatabaseError, transaction

from apps.audit.models import AccessLog

pytestmark = pytest.mark.django_db


def test_an_api_change_is_audited_with_the_token_user_and_address(cast, api_client):
    admin_token = __import__("rest_framework.authtoken.models", fromlist=["Token"]).Token
    token = admin_token.objects.create(user=cast.admin)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = api_client.patch(
        f"/api/v1/agents/{cast.agent_a1.pk}/",
        {"endpoint": "sip"},
        format="json",
        REMOTE_ADDR="10.1.2.3",
    )

    assert response.status_code == 200
    entry = LogEntry.objects.get_for_object(cast.agent_a1).latest("timestamp")
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.actor == cast.admin
    assert entry.remote_addr == "10.1.2.3"
    assert entry.changes_dict["endpoint"] == ["webrtc", "sip"]


def test_a_session_change_in_the_admin_is_audited(cast, client):
    client.force_login(cast.admin)

    response = client.post(
        f"/admin/accounts/team/{cast.team_b.pk}/change/",
        {
            "name": "Team B renamed",
            "description": "",
            "supervisors": [cast.supervisor_b.pk],
            "agents-TOTAL_FORMS": "0",
            "agents-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    entry = LogEntry.objects.get_for_object(cast.team_b).latest("timestamp")
    assert entry.actor == cast.admin
    assert entry.changes_dict["name"] == ["Team B", "Team B renamed"]


def test_sip_password_is_never_written_in_clear_to_the_audit_log(cast):
    agent = cast.agent_a1
    old_password = agent.sip_password
    agent.sip_password = "new-secret-value-123"
    agent.save()

    entry = LogEntry.objects.get_for_object(agent).latest("timestamp")
    assert "new-secret-value-123" not in str(entry.changes)
    assert old_password not in str(entry.changes)


def test_revealing_sip_credentials_is_recorded(cast, client_as):
    client_as(cast.agent_a1.user).post(
        f"/api/v1/agents/{cast.agent_a1.pk}/sip-credentials/", REMOTE_ADDR="192.0.2.7"
    )

    entry = AccessLog.objects.get()
    assert entry.action == AccessLog.Action.REVEAL_FIELD
    assert entry.actor == cast.agent_a1.user
    assert entry.target_type == "accounts.Agent"
    assert entry.target_id == str(cast.agent_a1.pk)
    assert entry.field == "sip_password"
    assert entry.remote_addr == "192.0.2.7"


def test_a_refused_reveal_records_nothing(cast, client_as):
    response = client_as(cast.supervisor_a).post(
        f"/api/v1/agents/{cast.agent_a1.pk}/sip-credentials/"
    )

    assert response.status_code == 404
    assert AccessLog.objects.count() == 0


def test_a_bulk_export_is_recorded_with_its_size(cast, client_as):
    client_as(cast.supervisor_a).get("/api/v1/agents/export/")

    entry = AccessLog.objects.get()
    assert entry.action == AccessLog.Action.BULK_EXPORT
    assert entry.actor == cast.supervisor_a
    assert entry.detail == {"rows": 2}


def test_the_database_refuses_to_change_or_delete_access_log_rows(cast, client_as):
    client_as(cast.supervisor_a).get("/api/v1/agents/export/")
    entry = AccessLog.objects.get()

    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=entry.pk).update(action="bulk_export", field="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.field == ""


def test_the_admin_offers_no_way_to_edit_the_access_log(cast, client, client_as):
    client_as(cast.supervisor_a).get("/api/v1/agents/export/")
    entry = AccessLog.objects.get()
    client.force_login(cast.admin)

    list_page = client.get("/admin/audit/accesslog/")
    add_page = client.get("/admin/audit/accesslog/add/")
    delete_page = client.post(f"/admin/audit/accesslog/{entry.pk}/delete/", {"post": "yes"})

    assert list_page.status_code == 200
    assert add_page.status_code == 403
    assert delete_page.status_code == 403
    assert AccessLog.objects.count() == 1
