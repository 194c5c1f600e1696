"""Every routing admin page renders for an administrator."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.routing import router, services
from apps.routing.models import BusinessHours, CustomerTier, OverflowRule
from tests.routing.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(cast) -> Client:
    client = Client()
    client.force_login(cast.admin)
    return client


def test_every_routing_page_renders(admin_client, make_queue, make_agent, park, skills):
    queue = make_queue(requires={skills["sales"]: 1})
    OverflowRule.objects.create(
        queue=queue, position=1, after_seconds=30, action="relax", relax_by=1
    )
    agent = make_agent({skills["sales"]: 5}, available_at=0)
    reservation = router.route_call(park(at_seconds=1).pk, now=at(2))
    services.offer_ring_failed(token=reservation.token, now=at(30))
    calendar = BusinessHours.objects.create(name="Office")
    tier = CustomerTier.objects.create(slug="vip", name="VIP")
    pages = [
        "/admin/routing/",
        "/admin/routing/skill/",
        f"/admin/routing/skill/{skills['sales'].pk}/change/",
        "/admin/routing/customertier/",
        f"/admin/routing/customertier/{tier.pk}/change/",
        "/admin/routing/businesshours/",
        f"/admin/routing/businesshours/{calendar.pk}/change/",
        "/admin/routing/queue/",
        "/admin/routing/queue/add/",
        f"/admin/routing/queue/{queue.pk}/change/",
        "/admin/routing/agentroutingprofile/",
        f"/admin/routing/agentroutingprofile/{agent.pk}/change/",
        "/admin/routing/agentskill/",
        "/admin/routing/agentpresence/",
        f"/admin/routing/agentpresence/{agent.pk}/change/",
        "/admin/routing/waitingcall/",
        "/admin/routing/offer/",
        "/admin/routing/agentstatechange/",
    ]

    statuses = {page: admin_client.get(page).status_code for page in pages}

    assert statuses == dict.fromkeys(pages, 200)


def test_the_log_out_action_sets_the_chosen_agents_offline(admin_client, make_agent):
    first = make_agent(available_at=0)
    second = make_agent(available_at=0)

    response = admin_client.post(
        "/admin/routing/agentpresence/",
        {"action": "log_out", "_selected_action": [first.pk, second.pk]},
    )

    assert response.status_code == 302
    from tests.routing.conftest import state_of

    assert (state_of(first), state_of(second)) == (("offline", ""), ("offline", ""))
