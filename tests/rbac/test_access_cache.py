"""A user's roles and permissions are cached between requests, and every change to them is seen
by the next request: membership, a group's or a user's permissions, a group renamed or deleted,
a permission deleted. Each test warms the cache, changes the database, then asks again with a
fresh user object, as the next request would."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction

from apps.accounts.models import User
from apps.rbac import roles
from apps.rbac.access_cache import GENERATION_KEY, USER_KEY, UserAccess, user_access_prime
from apps.rbac.services import user_has_role, user_is_admin
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

VIEW_CUSTOMER = "customers.view_customer"
MERGE = "customers.merge_customers"
DELETE_USER = "accounts.delete_user"


def _fresh(user: User) -> User:
    """The user as the next request loads it (no per-object permission cache)."""
    return User.objects.get(pk=user.pk)


def _warm(user: User) -> User:
    fresh = _fresh(user)
    user_access_prime(fresh)
    return fresh


def _permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def test_the_second_request_checks_roles_and_permissions_without_a_query(
    role_groups, django_assert_num_queries
):
    agent = UserFactory(role=roles.AGENT)
    _warm(agent)
    user = _fresh(agent)

    with django_assert_num_queries(0):
        assert user_has_role(user, roles.AGENT)
        assert not user_is_admin(user)
        assert user.has_perm(VIEW_CUSTOMER)
        assert not user.has_perm(MERGE)
        assert user.get_all_permissions() == roles.ROLE_PERMISSIONS[roles.AGENT]


def test_the_cached_answer_is_what_django_computes(role_groups):
    supervisor = UserFactory(role=roles.SUPERVISOR)
    supervisor.user_permissions.add(_permission(DELETE_USER))
    _warm(supervisor)

    cached = _warm(supervisor)
    uncached = _fresh(supervisor)

    assert cached.get_all_permissions() == uncached.get_all_permissions()
    assert cached.get_user_permissions() == {DELETE_USER}
    assert cached.get_group_permissions() == roles.ROLE_PERMISSIONS[roles.SUPERVISOR]


def _add_to_supervisors(user: User) -> None:
    user.groups.add(Group.objects.get(name=roles.SUPERVISOR))


def _added_from_the_group_side(user: User) -> None:
    Group.objects.get(name=roles.SUPERVISOR).user_set.add(user)


def _grant_merge_to_agents(user: User) -> None:
    Group.objects.get(name=roles.AGENT).permissions.add(_permission(MERGE))


def _grant_merge_from_the_permission_side(user: User) -> None:
    _permission(MERGE).group_set.add(Group.objects.get(name=roles.AGENT))


def _grant_merge_to_the_user(user: User) -> None:
    user.user_permissions.add(_permission(MERGE))


@pytest.mark.parametrize(
    "change",
    [
        _add_to_supervisors,
        _added_from_the_group_side,
        _grant_merge_to_agents,
        _grant_merge_from_the_permission_side,
        _grant_merge_to_the_user,
    ],
)
def test_a_permission_gained_is_seen_by_the_next_request(role_groups, change):
    agent = UserFactory(role=roles.AGENT)
    assert not _warm(agent).has_perm(MERGE)

    change(agent)

    assert _warm(agent).has_perm(MERGE)


def _removed_from_agents(user: User) -> None:
    user.groups.remove(Group.objects.get(name=roles.AGENT))


def _groups_cleared(user: User) -> None:
    user.groups.clear()


def _agents_group_emptied(user: User) -> None:
    Group.objects.get(name=roles.AGENT).user_set.clear()


def _agents_lose_the_permission(user: User) -> None:
    Group.objects.get(name=roles.AGENT).permissions.remove(_permission(VIEW_CUSTOMER))


def _agents_lose_every_permission(user: User) -> None:
    Group.objects.get(name=roles.AGENT).permissions.clear()


def _agents_group_deleted(user: User) -> None:
    Group.objects.get(name=roles.AGENT).delete()


def _permission_deleted(user: User) -> None:
    _permission(VIEW_CUSTOMER).delete()


@pytest.mark.parametrize(
    "change",
    [
        _removed_from_agents,
        _groups_cleared,
        _agents_group_emptied,
        _agents_lose_the_permission,
        _agents_lose_every_permission,
        _agents_group_deleted,
        _permission_deleted,
    ],
)
def test_a_permission_lost_is_seen_by_the_next_request(role_groups, change):
    agent = UserFactory(role=roles.AGENT)
    assert _warm(agent).has_perm(VIEW_CUSTOMER)

    change(agent)

    assert not _warm(agent).has_perm(VIEW_CUSTOMER)


def test_a_renamed_group_is_no_longer_the_role(role_groups):
    admin = UserFactory(role=roles.ADMINISTRATOR)
    assert user_is_admin(_warm(admin))
    group = Group.objects.get(name=roles.ADMINISTRATOR)

    group.name = "Former administrators"
    group.save()

    user = _warm(admin)
    assert not user_is_admin(user)
    assert not user_has_role(user, roles.ADMINISTRATOR)
    assert user_has_role(user, "Former administrators")


def test_a_stale_entry_written_before_the_change_commits_is_retired_at_commit(
    role_groups, django_capture_on_commit_callbacks
):
    agent = UserFactory(role=roles.AGENT)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        _add_to_supervisors(agent)
        # Meanwhile another request, which cannot see the uncommitted change yet, caches
        # what it read under the generation of the moment.
        stale = UserAccess(
            role_names=frozenset({roles.AGENT}),
            user_permissions=frozenset(),
            group_permissions=frozenset(roles.ROLE_PERMISSIONS[roles.AGENT]),
        )
        cache.set(USER_KEY.format(user_id=agent.pk), (cache.get(GENERATION_KEY), stale))

    assert user_has_role(_warm(agent), roles.SUPERVISOR)


def test_an_evicted_generation_retires_every_entry(role_groups):
    agent = UserFactory(role=roles.AGENT)
    _warm(agent)
    cache.delete(GENERATION_KEY)
    # Written behind the ORM's back, as only a lost generation could hide.
    Group.objects.get(name=roles.AGENT).user_set.through.objects.filter(user_id=agent.pk).delete()

    assert not user_has_role(_warm(agent), roles.AGENT)


def test_a_superuser_keeps_every_permission(role_groups):
    superuser = UserFactory(role=roles.AGENT, is_superuser=True)
    _warm(superuser)

    cached = _warm(superuser)

    assert user_is_admin(cached)
    assert cached.has_perm(DELETE_USER)
    assert cached.get_all_permissions() == _fresh(superuser).get_all_permissions()
    assert len(cached.get_all_permissions()) == Permission.objects.count()


def test_inactive_and_anonymous_users_hold_no_role(role_groups):
    from django.contrib.auth.models import AnonymousUser

    agent = UserFactory(role=roles.AGENT)
    _warm(agent)
    User.objects.filter(pk=agent.pk).update(is_active=False)

    inactive = _warm(agent)
    assert not user_has_role(inactive, roles.AGENT)
    assert not inactive.has_perm(VIEW_CUSTOMER)
    assert not user_has_role(AnonymousUser(), roles.AGENT)
