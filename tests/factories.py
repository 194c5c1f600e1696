"""factory_boy factories shared by every test module."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group

from apps.accounts.models import Agent, Team, User
from apps.rbac import roles
from apps.rbac.services import roles_setup


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.test")
    password = factory.django.Password("test-password")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            if not Group.objects.filter(name=extracted).exists():
                # A transactional test before this one flushed the tables, roles included.
                roles_setup()
            self.groups.add(Group.objects.get(name=extracted))
            if extracted == roles.ADMINISTRATOR:
                self.is_staff = True
                self.save(update_fields=["is_staff"])


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    user = factory.SubFactory(UserFactory, role=roles.AGENT)
    team = factory.SubFactory(TeamFactory)
    extension = factory.Sequence(lambda n: f"{2000 + n}")
