"""Every API error has one body shape; validation errors name the field."""

import pytest

pytestmark = pytest.mark.django_db


def test_validation_errors_name_each_bad_field(cast, client_as):
    user = cast.agent_a1.user

    response = client_as(user).patch(
        "/api/v1/me/", {"language": "klingon", "timezone": "Mars/Olympus"}, format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"language", "timezone"}
    assert error["fields"]["timezone"] == ["Unknown time zone."]
    user.refresh_from_db()
    assert user.language == "en"


def test_not_found_has_the_error_body(cast, client_as):
    response = client_as(cast.admin).get("/api/v1/agents/999999/")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Agent not found."}}


def test_permission_denied_has_the_error_body(cast, client_as):
    response = client_as(cast.agent_a1.user).get("/api/v1/teams/")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_preferences_change_the_users_language(cast, client_as):
    user = cast.agent_a1.user

    response = client_as(user).patch("/api/v1/me/", {"language": "zh-hans"}, format="json")

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.language == "zh-hans"


def test_openapi_schema_lists_the_api(cast, client_as):
    response = client_as(cast.admin).get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/agents/{agent_id}/" in paths
    assert "/api/v1/me/" in paths
