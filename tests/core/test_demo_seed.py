"""Demo data: seeded idempotently in the dev profile, refused elsewhere."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from apps.accounts.models import Agent, User
from apps.core.demo import seed_demo_data

pytestmark = pytest.mark.django_db


def test_seeding_twice_creates_each_demo_user_once(role_groups, settings):
    settings.DEBUG = True

    seed_demo_data()
    seed_demo_data()

    assert User.objects.filter(username="agent1").count() == 1
    assert Agent.objects.get(user__username="agent1").team.name == "Sales"
    assert User.objects.get(username="admin").check_password("admin-demo")


def test_demo_data_is_refused_outside_the_dev_profile(role_groups, settings):
    settings.DEBUG = False

    with pytest.raises(ImproperlyConfigured):
        seed_demo_data()
    assert not User.objects.filter(username="admin").exists()


def test_create_api_client_prints_a_working_token(role_groups, capsys, api_client):
    call_command("create_api_client", "erp")
    token = capsys.readouterr().out.strip()

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/me/").json()["username"] == "erp"
