"""End to end in Chromium against the running suite and the simulator: a call is routed to a
logged-in agent, the screen-pop shows the right customer and history, the agent holds, resumes
and transfers the call and wraps it up with a disposition and a ticket; a second call is hung
up from the console. A second tab of the agent stays consistent, also after its socket drops.
The database records are checked against what the browser did."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from apps.telephony.simulator import Bridge, SimulatorServer
from tests.browser import harness
from tests.browser.conftest import login
from tests.customers.factories import InteractionFactory, customer_with_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CALLER = "13812345678"  # a Chinese mobile in national format; the customer is stored in E.164


def _interaction(page, status: str):  # type: ignore[no-untyped-def]
    return page.wait_for_selector(f'[data-testid=interaction][data-status="{status}"]')


@pytest.fixture
def simulator():
    server = SimulatorServer(port=0, heartbeat_interval=5.0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def contact_center(cast, simulator, database_name, processes):
    """Team A's agents on desk phones in the simulator, the support queue, a known customer
    with history and an open ticket, and the suite running."""
    from apps.console.models import DispositionCode
    from apps.routing.models import Queue
    from apps.telephony.models import FreeswitchNode
    from apps.tickets.services import ticket_create

    FreeswitchNode.objects.create(
        name="sim", host="127.0.0.1", port=simulator.port, password="ClueCon"
    )
    queue = Queue.objects.create(slug="support", name="Support", wrap_up_seconds=120)
    queue.teams.add(cast.team_a)
    DispositionCode.objects.create(code="resolved", label="Resolved", position=1)
    DispositionCode.objects.create(queue=queue, code="replacement", label="Replacement sent")
    for agent in (cast.agent_a1, cast.agent_a2):
        agent.endpoint = "sip"
        agent.save(update_fields=["endpoint"])
    customer = customer_with_phone(
        "+8613812345678", name="Wang Fang", vip_tier="vip", language="zh-hans", tags=["ev"]
    )
    InteractionFactory(
        customer=customer,
        channel="email",
        summary="Asked for an invoice",
        occurred_at=timezone.now() - timezone.timedelta(days=2),
    )
    ticket_create(
        actor=cast.agent_a1.user,
        subject="Charger stopped working",
        customer=customer,
        team=cast.team_a,
    )
    # The agents' desk phones: agent_a1's rings long enough to see the offer, then answers.
    simulator.register_endpoint(cast.agent_a1.extension, answer_after=1.5)
    simulator.register_endpoint(cast.agent_a2.extension, answer_after=0.5)
    # FreeSWITCH's inline dialplan of a blind transfer to agent_a2, as the simulator's route.
    transfer_to_a2 = f"bridge:user/{cast.agent_a2.extension}@127.0.0.1"
    simulator.set_route(transfer_to_a2, [Bridge(f"user/{cast.agent_a2.extension}@127.0.0.1")])
    import redis

    env = harness.suite_env(database_name)
    # No tasks or group members left by an earlier run in the test broker and channel layer.
    redis.Redis.from_url(env["TEST_CELERY_BROKER_URL"]).flushdb()
    redis.Redis.from_url(env["TEST_CHANNEL_LAYER_URL"]).flushdb()
    web, base_url = harness.start_web(env)
    processes.append(web)
    processes.extend(harness.start_workers(env))
    processes.append(harness.start_event_process(env, lambda: simulator.connection_count() >= 1))
    return {"base_url": base_url, "queue": queue, "customer": customer}


def test_a_routed_call_from_screen_pop_to_wrap_up(cast, chromium, contact_center, simulator):
    from apps.console.models import WrapUp
    from apps.telephony.models import Call, CallCommand, CallLeg
    from apps.tickets.models import Ticket

    base_url = contact_center["base_url"]
    context = chromium.new_context()
    page = context.new_page()
    # given agent_a1 logged in, with the console connected, who makes themselves available
    login(page, base_url, cast.agent_a1.user.username)
    page.wait_for_selector("[data-testid=console][data-connection=open]")
    page.select_option("[data-testid=state-select]", "available")
    page.wait_for_selector('[data-testid=agent-state][data-state="available"]')
    # and a second tab of the same agent whose socket we can cut
    sockets = []

    def keep(route):  # type: ignore[no-untyped-def]
        route.connect_to_server()
        sockets.append(route)

    second = context.new_page()
    second.route_web_socket(re.compile(r".*/ws/console/.*"), keep)
    second.goto(f"{base_url}/console/")
    second.wait_for_selector('[data-testid=agent-state][data-state="available"]')

    # when a customer calls the support queue
    first_uuid = simulator.place_inbound_call(CALLER, "4001", variables={"cc_queue": "support"})

    # then the call is offered to agent_a1 and the screen pops with the customer and history
    _interaction(page, "ringing")
    page.wait_for_selector('[data-testid=customer-name]:has-text("Wang Fang")')
    assert page.inner_text("[data-testid=call-number]") == CALLER
    assert page.inner_text("[data-testid=customer-vip]") == "VIP"
    page.wait_for_selector('[data-testid=history] li:has-text("Asked for an invoice")')
    page.wait_for_selector('[data-testid=tickets] li:has-text("Charger stopped working")')
    harness.screenshot(page, "console-1-offer-screen-pop")

    # the desk phone answers: connected, in both tabs
    _interaction(page, "talking")
    _interaction(second, "talking")
    harness.screenshot(page, "console-2-talking")

    # hold and resume go through the switch and come back as events
    page.click("[data-testid=btn-hold]")
    _interaction(page, "held")
    _interaction(second, "held")
    harness.screenshot(page, "console-3-held")
    # the second tab's socket drops; it reconnects by itself and resynchronises
    sockets[-1].close(code=4000)
    second.wait_for_selector("[data-testid=console][data-connection=reconnecting]")
    second.wait_for_selector("[data-testid=console][data-connection=open]")
    _interaction(second, "held")
    page.click("[data-testid=btn-unhold]")
    _interaction(page, "talking")
    _interaction(second, "talking")

    # blind transfer to agent_a2
    page.click("[data-testid=btn-transfer]")
    page.wait_for_selector(
        f'[data-testid=transfer-agent] option[value="{cast.agent_a2.pk}"]', state="attached"
    )
    page.select_option("[data-testid=transfer-agent]", str(cast.agent_a2.pk))
    harness.screenshot(page, "console-4-transfer")
    page.click("[data-testid=transfer-submit]")

    # agent_a1 is off the call and wraps it up with a disposition and a new ticket
    page.wait_for_selector('[data-testid=wrap-up-form][data-ready="true"]:not(.hidden)')
    _interaction(page, "idle")
    page.select_option("[data-testid=wrap-up-disposition]", label="Replacement sent")
    page.fill("[data-testid=wrap-up-notes]", "Sending a new charger")
    page.check("[data-testid=ticket-create]")
    page.fill("[data-testid=ticket-subject]", "Replace charger for Wang Fang")
    harness.screenshot(page, "console-5-wrap-up")
    page.click("[data-testid=wrap-up-submit]")
    page.wait_for_selector("[data-testid=wrap-up-form].hidden", state="attached")
    second.wait_for_selector("[data-testid=wrap-up-form].hidden", state="attached")
    page.wait_for_selector('[data-testid=agent-state][data-state="available"]')

    # the records match what happened
    first_call = Call.objects.get(uuid=first_uuid)
    commands = dict(CallCommand.objects.filter(requester="console").values_list("kind", "status"))
    assert commands == {"hold": "succeeded", "unhold": "succeeded", "transfer": "succeeded"}
    a2_leg = CallLeg.objects.get(call=first_call, agent=cast.agent_a2)
    assert a2_leg.answered_at is not None
    wrap_up = WrapUp.objects.get(call_uuid=first_uuid, agent=cast.agent_a1)
    assert wrap_up.disposition.code == "replacement"
    assert wrap_up.notes == "Sending a new charger"
    assert wrap_up.customer_id == contact_center["customer"].pk
    ticket = Ticket.objects.get(pk=wrap_up.ticket_id)
    assert ticket.subject == "Replace charger for Wang Fang"
    assert list(ticket.calls.values_list("call_uuid", flat=True)) == [first_uuid]

    # a second call: answered, then hung up from the console
    second_uuid = simulator.place_inbound_call(CALLER, "4001", variables={"cc_queue": "support"})
    _interaction(page, "ringing")
    _interaction(page, "talking")
    page.click("[data-testid=btn-hangup]")
    page.wait_for_selector('[data-testid=wrap-up-form][data-ready="true"]:not(.hidden)')
    page.select_option("[data-testid=wrap-up-disposition]", label="Resolved")
    page.click("[data-testid=wrap-up-submit]")
    page.wait_for_selector("[data-testid=wrap-up-form].hidden", state="attached")
    harness.screenshot(page, "console-6-after-hangup")

    second_call = Call.objects.get(uuid=second_uuid)
    assert second_call.ended_at is not None
    assert WrapUp.objects.get(call_uuid=second_uuid).disposition.code == "resolved"
    hangups = CallCommand.objects.filter(requester="console", kind="hangup", call=second_call)
    assert sorted(hangups.values_list("status", flat=True)) == ["succeeded", "succeeded"]
    context.close()
