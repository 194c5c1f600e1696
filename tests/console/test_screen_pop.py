"""The screen-pop: the caller matched to a customer by normalised number, the IVR path, masked
sensitive fields, and the sections each reader may see (history, open tickets, articles)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.console import selectors
from tests.console.conftest import make_call
from tests.customers.factories import InteractionFactory, customer_with_phone

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "caller",
    ["13812345678", "+8613812345678", "008613812345678", "+86 138 1234 5678", "8613812345678"],
)
def test_caller_matches_the_customer_in_any_number_format(cast, node, support_queue, caller):
    # given a customer known by their mobile number in E.164
    customer = customer_with_phone(
        "+8613812345678", name="Wang Fang", vip_tier="vip", language="zh-hans", tags=["vip", "ev"]
    )
    call = make_call(node, cast.agent_a1, caller=caller).call
    # when the screen-pop is built
    pop = selectors.screen_pop_build(call=call)
    # then it shows that customer with their tier, language and tags
    assert pop["call"]["number"] == caller
    assert pop["call"]["number_e164"] == "+8613812345678"
    assert pop["customer"] == {
        "id": customer.pk,
        "name": "Wang Fang",
        "company": "",
        "vip_tier": "vip",
        "vip_tier_label": "VIP",
        "language": "zh-hans",
        "language_label": "Simplified Chinese",
        "tags": ["vip", "ev"],
        "sensitive": [],
    }
    assert pop["queue"] == {"id": support_queue.pk, "slug": "support", "name": "Support"}


def test_the_ivr_identification_wins_over_the_number(cast, node, support_queue):
    customer_with_phone("+8613812345678", name="Number owner")
    identified = customer_with_phone("+8613900000000", name="Identified in the IVR")
    call = make_call(node, cast.agent_a1, customer_id=identified.pk).call
    assert selectors.screen_pop_build(call=call)["customer"]["name"] == "Identified in the IVR"


def test_unknown_caller_has_no_customer(cast, node, support_queue):
    call = make_call(node, cast.agent_a1, caller="13700000000").call
    pop = selectors.screen_pop_build(call=call)
    assert pop["customer"] is None
    assert pop["call"]["number_e164"] == "+8613700000000"


def test_sensitive_fields_are_only_masked(cast, node, support_queue):
    customer_with_phone(
        "+8613812345678",
        name="Li Lei",
        national_id="110101199003074512",
        bank_card="6222020200112233445",
    )
    pop = selectors.screen_pop_build(call=make_call(node, cast.agent_a1).call)
    sensitive = pop["customer"]["sensitive"]
    assert [item["field"] for item in sensitive] == ["national_id", "bank_card"]
    assert all(item["masked"].endswith(("4512", "3445")) for item in sensitive)
    assert "110101199003074512" not in str(pop)
    assert "6222020200112233445" not in str(pop)


def test_ivr_path_and_entered_digits(cast, node, support_queue):
    from apps.ivr.models import IvrPath, IvrStep

    now = timezone.now()
    path = IvrPath.objects.create(call_uuid="ivr-call", started_at=now, language="en")
    steps = [
        ("menu", "enter", ""),
        ("menu", "input", "2"),
        ("account", "input", "••••"),
        ("to-queue", "exit", "support"),
    ]
    for seq, (node_key, event, detail) in enumerate(steps, start=1):
        IvrStep.objects.create(
            path=path, seq=seq, node=node_key, event=event, detail=detail, at=now
        )
    call = make_call(node, cast.agent_a1, ivr_path_ref=str(path.pk)).call
    ivr = selectors.screen_pop_build(call=call)["ivr"]
    assert [(step["node"], step["event"], step["detail"]) for step in ivr["steps"]] == steps
    assert ivr["inputs"] == [
        {"node": "menu", "label": "menu", "value": "2"},
        {"node": "account", "label": "account", "value": "••••"},
    ]


def _get(client, call, section, agent=None):
    suffix = f"?agent={agent}" if agent else ""
    return client.get(f"/api/v1/console/calls/{call.pk}/screen-pop/{section}/{suffix}")


@pytest.mark.parametrize(
    ("who", "agent_param", "expected"),
    [
        ("agent_a1", False, 200),
        ("agent_a2", False, 404),
        ("supervisor_a", True, 200),
        ("supervisor_b", True, 404),
        ("admin", True, 200),
        ("qa", True, 403),
        ("crm", True, 403),
    ],
)
@pytest.mark.parametrize("section", ["history", "tickets", "articles"])
def test_section_permission_matrix(  # noqa: PLR0917
    cast, live_call, client_as, who, agent_param, expected, section
):
    user = getattr(cast, who)
    user = getattr(user, "user", user)
    response = _get(
        client_as(user), live_call.call, section, cast.agent_a1.pk if agent_param else None
    )
    assert response.status_code == expected


def test_history_lists_the_customers_interactions_newest_first(cast, live_call, client_as):
    customer = customer_with_phone("+8613812345678", name="Wang Fang")
    older = InteractionFactory(
        customer=customer,
        channel="email",
        summary="Invoice question",
        occurred_at=timezone.now() - timezone.timedelta(days=3),
    )
    newer = InteractionFactory(customer=customer, channel="chat", summary="Delivery date")
    body = _get(client_as(cast.agent_a1.user), live_call.call, "history").json()
    assert body["available"] is True
    assert [(item["id"], item["channel"], item["summary"]) for item in body["items"]] == [
        (newer.pk, "chat", "Delivery date"),
        (older.pk, "email", "Invoice question"),
    ]


def test_tickets_lists_the_customers_open_tickets(cast, live_call, client_as):
    from apps.tickets.services import ticket_create, ticket_transition

    customer = customer_with_phone("+8613812345678", name="Wang Fang")
    open_ticket = ticket_create(
        actor=cast.agent_a1.user, subject="Broken charger", customer=customer, team=cast.team_a
    )
    closed = ticket_create(
        actor=cast.agent_a1.user, subject="Old one", customer=customer, team=cast.team_a
    )
    ticket_transition(actor=cast.agent_a1.user, ticket=closed, action="resolve")
    body = _get(client_as(cast.agent_a1.user), live_call.call, "tickets").json()
    assert [(item["id"], item["subject"]) for item in body["items"]] == [
        (open_ticket.pk, "Broken charger")
    ]


def test_articles_follow_the_ivr_choice_and_queue(cast, node, support_queue, client_as, settings):
    from tests.knowledge.helpers import make_article

    settings.SEARCH_BACKEND = "postgres"
    article = make_article(title="Charger replacement", body="How to replace a support charger.")
    make_article(title="Holiday opening hours", body="We close on public holidays.")
    call = make_call(node, cast.agent_a1).call
    body = _get(client_as(cast.agent_a1.user), call, "articles").json()
    assert body["available"] is True
    assert [item["id"] for item in body["items"]] == [article.pk]


def test_sections_of_an_unknown_caller_are_empty(cast, node, support_queue, client_as):
    call = make_call(node, cast.agent_a1, caller="13700000000").call
    client = client_as(cast.agent_a1.user)
    assert _get(client, call, "history").json() == {"available": True, "items": []}
    assert _get(client, call, "tickets").json() == {"available": True, "items": []}


def test_unknown_caller_becomes_a_customer_and_the_screen_pops_again(  # noqa: PLR0917
    cast, node, support_queue, client_as, listen, django_capture_on_commit_callbacks
):
    from apps.core.realtime import agent_group

    call = make_call(node, cast.agent_a1, caller="13700000000").call
    listener = listen(agent_group(cast.agent_a1.pk))
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(cast.agent_a1.user).post(
            f"/api/v1/console/calls/{call.pk}/customer/",
            {"mode": "create", "name": "Zhang Wei", "language": "zh-hans"},
            format="json",
        )
    assert response.status_code == 201
    assert response.json()["name"] == "Zhang Wei"
    pushed = listener.receive()
    assert pushed["type"] == "screen_pop"
    assert pushed["phase"] == "update"
    assert pushed["customer"]["name"] == "Zhang Wei"
    assert selectors.call_customer(call).name == "Zhang Wei"


def test_unknown_caller_number_links_to_an_existing_customer(cast, node, support_queue, client_as):
    customer = customer_with_phone("+8613900000000", name="Known by another number")
    call = make_call(node, cast.agent_a1, caller="13700000000").call
    response = client_as(cast.agent_a1.user).post(
        f"/api/v1/console/calls/{call.pk}/customer/",
        {"mode": "link", "customer_id": customer.pk},
        format="json",
    )
    assert response.status_code == 201
    assert selectors.call_customer(call).pk == customer.pk


def test_other_agents_cannot_create_a_customer_from_someone_elses_call(
    cast, node, support_queue, client_as
):
    from apps.customers.models import Customer

    call = make_call(node, cast.agent_a1, caller="13700000000").call
    response = client_as(cast.agent_a2.user).post(
        f"/api/v1/console/calls/{call.pk}/customer/",
        {"mode": "create", "name": "Intruder"},
        format="json",
    )
    assert response.status_code == 404
    assert Customer.objects.count() == 0
