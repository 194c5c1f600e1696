"""Demo ticket setup (dev profile only): a Shanghai business calendar with the 2026 public
holidays, SLA policies, departments, categories, and open tickets for the demo customers."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from apps.accounts.models import Team, User
from apps.customers.models import Customer
from apps.routing.models import BusinessHours, BusinessHoursInterval, Holiday
from apps.tickets import services
from apps.tickets.models import Department, SLAPolicy, SLATarget, Ticket, TicketCategory

# Mainland China 2026 public holidays and make-up working days, as announced for the demo year.
HOLIDAYS_2026 = {
    dt.date(2026, 1, 1): "元旦",
    dt.date(2026, 1, 2): "元旦",
    dt.date(2026, 1, 3): "元旦",
    **{dt.date(2026, 2, day): "春节" for day in range(15, 24)},
    dt.date(2026, 4, 4): "清明节",
    dt.date(2026, 4, 5): "清明节",
    dt.date(2026, 4, 6): "清明节",
    **{dt.date(2026, 5, day): "劳动节" for day in range(1, 6)},
    dt.date(2026, 6, 19): "端午节",
    dt.date(2026, 6, 20): "端午节",
    dt.date(2026, 6, 21): "端午节",
    dt.date(2026, 9, 25): "中秋节",
    dt.date(2026, 9, 26): "中秋节",
    dt.date(2026, 9, 27): "中秋节",
    **{dt.date(2026, 10, day): "国庆节" for day in range(1, 8)},
}
MAKE_UP_DAYS_2026 = [
    dt.date(2026, 1, 4),
    dt.date(2026, 2, 14),
    dt.date(2026, 2, 28),
    dt.date(2026, 5, 9),
    dt.date(2026, 9, 20),
    dt.date(2026, 10, 10),
]
TARGETS = {  # priority: (first response, resolution) in business minutes
    "standard": {"low": (240, 2400), "normal": (60, 960), "high": (30, 480), "urgent": (15, 240)},
    "vip": {"low": (60, 960), "normal": (15, 480), "high": (10, 240), "urgent": (5, 120)},
}
DEPARTMENTS = [  # slug, name, default team, policy
    ("logistics", "物流 Logistics", "Support", "standard"),
    ("support", "技术支持 Technical support", "Support", "standard"),
    ("billing", "账务 Billing", "Sales", "standard"),
    ("key-accounts", "大客户 Key accounts", "Sales", "vip"),
]
CATEGORIES = [  # slug, name, department
    ("delivery", "Delivery / 配送", "logistics"),
    ("returns", "Returns / 退货", "logistics"),
    ("device-fault", "Device fault / 设备故障", "support"),
    ("account", "Account / 账户", "support"),
    ("invoice", "Invoice / 发票", "billing"),
    ("refund", "Refund / 退款", "billing"),
]
TICKETS = [  # customer external id, subject, category, priority, assignee, action
    ("demo-001", "发票抬头错误，需要重开", "invoice", "high", "agent1", "open"),
    ("demo-002", "快递三天未更新物流信息", "delivery", "normal", "agent4", "pend"),
    ("demo-003", "Router reboots every hour", "device-fault", "high", "agent5", ""),
    ("demo-010", "要求退款：重复扣款", "refund", "urgent", "agent2", "open"),
    ("demo-019", "大客户年度合同续签", "invoice", "normal", "agent3", ""),
    ("demo-021", "Return label not received", "returns", "normal", "agent6", "pend"),
    ("demo-023", "Cannot log in to the customer portal", "account", "low", "", ""),
    ("demo-028", "Damaged parcel on arrival", "delivery", "high", "agent4", "resolve"),
    ("demo-033", "双语客户：账单地址变更", "account", "normal", "agent5", "open"),
]


def _calendar() -> BusinessHours:
    calendar, created = BusinessHours.objects.get_or_create(
        name="Shanghai office", defaults={"timezone": "Asia/Shanghai"}
    )
    if created:
        BusinessHoursInterval.objects.bulk_create(
            BusinessHoursInterval(
                calendar=calendar, weekday=day, opens=dt.time(9), closes=dt.time(18)
            )
            for day in range(5)
        )
        Holiday.objects.bulk_create(
            [Holiday(calendar=calendar, date=day, name=name) for day, name in HOLIDAYS_2026.items()]
            + [
                Holiday(
                    calendar=calendar,
                    date=day,
                    name="调休上班",
                    opens=dt.time(9),
                    closes=dt.time(18),
                )
                for day in MAKE_UP_DAYS_2026
            ]
        )
    return calendar


@transaction.atomic
def seed() -> list[str]:
    """Create the calendar, policies, departments, categories and demo tickets if missing."""
    calendar = _calendar()
    policies = {}
    for key, targets in TARGETS.items():
        policy, created = SLAPolicy.objects.get_or_create(
            name="VIP" if key == "vip" else "Standard",
            defaults={"calendar": calendar, "is_default": key == "standard"},
        )
        if created:
            SLATarget.objects.bulk_create(
                SLATarget(
                    policy=policy,
                    priority=priority,
                    first_response_minutes=first,
                    resolution_minutes=resolution,
                )
                for priority, (first, resolution) in targets.items()
            )
        policies[key] = policy
    departments = {}
    for slug, name, team_name, policy_key in DEPARTMENTS:
        departments[slug], _ = Department.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "default_team": Team.objects.filter(name=team_name).first(),
                "sla_policy": policies[policy_key],
            },
        )
    categories = {}
    for slug, name, department in CATEGORIES:
        categories[slug], _ = TicketCategory.objects.get_or_create(
            slug=slug, defaults={"name": name, "department": departments[department]}
        )
    admin = User.objects.filter(username="admin").first()
    created = 0
    for external_id, subject, category, priority, assignee, action in TICKETS:
        customer = Customer.objects.filter(external_id=external_id).first()
        if customer is None or Ticket.objects.filter(customer=customer, subject=subject).exists():
            continue
        agent = User.objects.filter(username=assignee).first() if assignee else None
        ticket = services.ticket_create(
            actor=admin,
            subject=subject,
            customer=customer,
            priority=priority,
            category=categories[category],
            channel="phone",
            assignee=agent,
        )
        if action:
            services.ticket_transition(
                actor=agent or admin,
                ticket=ticket,
                action=action,
                pending_reason="customer" if action == "pend" else "",
            )
        created += 1
    return [
        f"  tickets: {Ticket.objects.count()} tickets ({created} new), "
        f"{len(departments)} departments, SLA on the 'Shanghai office' calendar"
    ]
