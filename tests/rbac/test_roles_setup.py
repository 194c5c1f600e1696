"""Roles are created idempotently with exactly their permissions."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from apps.rbac import roles
from apps.rbac.services import roles_setup

pytestmark = pytest.mark.django_db


def _perms(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {
        f"{perm.content_type.app_label}.{perm.codename}"
        for perm in group.permissions.select_related("content_type")
    }


def test_every_role_exists_with_exactly_its_permissions():
    call_command("setup_roles", verbosity=0)

    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ALL_ROLES)
    for role, wanted in roles.ROLE_PERMISSIONS.items():
        assert _perms(role) == wanted
    assert Group.objects.get(name=roles.ADMINISTRATOR).permissions.count() == (
        Permission.objects.count()
    )


def test_running_setup_again_restores_a_tampered_role():
    roles_setup()
    supervisor = Group.objects.get(name=roles.SUPERVISOR)
    supervisor.permissions.add(Permission.objects.get(codename="delete_user"))

    roles_setup()
    roles_setup()

    assert _perms(roles.SUPERVISOR) == roles.ROLE_PERMISSIONS[roles.SUPERVISOR]
    assert Group.objects.filter(name=roles.SUPERVISOR).count() == 1


def test_agents_and_api_clients_cannot_change_configuration():
    roles_setup()

    for role in (roles.AGENT, roles.API_CLIENT, roles.QA_ANALYST):
        assert not any(
            perm.startswith(("accounts.change_team", "accounts.delete", "auth."))
            for perm in _perms(role)
        )
