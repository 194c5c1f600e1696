"""Demo data: customers in the simulator's number style and open tickets, seeded idempotently."""

import pytest

from apps.accounts import demo as accounts_demo
from apps.customers import demo as customers_demo
from apps.customers.models import Customer
from apps.customers.selectors import customer_find_by_phone
from apps.tickets import demo as tickets_demo
from apps.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_demo_customers_and_tickets_seed_once(role_groups):
    accounts_demo.seed()
    customers_demo.seed()
    tickets_demo.seed()
    counts = (Customer.objects.count(), Ticket.objects.count())

    customers_demo.seed()
    tickets_demo.seed()

    assert (Customer.objects.count(), Ticket.objects.count()) == counts
    assert counts == (len(customers_demo.DEMO_CUSTOMERS), len(tickets_demo.TICKETS))
    assert customer_find_by_phone("13800138000").vip_tier == "vip"
    assert customer_find_by_phone("+1 415 555 0101").name == "Emma Johnson"
    assert {t.status for t in Ticket.objects.all()} == {"new", "open", "pending", "resolved"}
    assert all(t.first_response_due_at is not None for t in Ticket.objects.all())
