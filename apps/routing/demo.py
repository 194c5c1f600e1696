"""Demo routing setup: skills, a VIP tier, four queues with overflow rules, the demo agents' skills.

Runs after apps.accounts.demo (agent1..agent6 in the teams Sales and Support); idempotent.
"""

from __future__ import annotations

from datetime import time

from django.db import transaction

from apps.accounts.models import Agent, Team
from apps.routing import services
from apps.routing.models import (
    BusinessHours,
    BusinessHoursInterval,
    CustomerTier,
    OverflowAction,
    OverflowRule,
    Queue,
    QueueSkill,
    Skill,
    Strategy,
    Weekday,
)

SKILLS = [
    # (slug, name, language code)
    ("sales", "Sales", ""),
    ("after-sales", "After-sales", ""),
    ("billing", "Billing", ""),
    ("vip", "VIP care", ""),
    ("english", "English", "en"),
    ("mandarin", "Mandarin", "zh"),
]
AGENT_SKILLS = {
    "agent1": {"sales": 8, "mandarin": 10, "english": 6, "vip": 5},
    "agent2": {"sales": 6, "english": 10, "billing": 4},
    "agent3": {"sales": 5, "mandarin": 10, "billing": 6},
    "agent4": {"after-sales": 8, "english": 10, "billing": 7, "vip": 6},
    "agent5": {"after-sales": 6, "mandarin": 10, "english": 5, "billing": 5},
    "agent6": {"after-sales": 5, "english": 10, "billing": 8},
}
QUEUES = [
    # (slug, name, teams, {skill: min level}, strategy, priority)
    ("sales", "Sales", ["Sales"], {"sales": 3}, Strategy.LONGEST_IDLE, 10),
    ("after_sales", "After-sales", ["Support"], {"after-sales": 3}, Strategy.BEST_SKILL, 5),
    ("billing", "Billing", ["Sales", "Support"], {"billing": 4}, Strategy.LEAST_OCCUPIED, 0),
    ("default", "General", ["Sales", "Support"], {}, Strategy.ROUND_ROBIN, 0),
]


def _overflow(queue: Queue, rules: list[dict]) -> None:
    for position, rule in enumerate(rules, start=1):
        backup_teams = rule.pop("backup_teams", [])
        row, _ = OverflowRule.objects.update_or_create(
            queue=queue, position=position, defaults=rule
        )
        row.backup_teams.set(backup_teams)


@transaction.atomic
def seed() -> list[str]:
    """Create the demo routing setup if missing; return lines to print."""
    skills = {}
    for slug, name, language in SKILLS:
        skills[slug], _ = Skill.objects.update_or_create(
            slug=slug, defaults={"name": name, "language_code": language}
        )
    CustomerTier.objects.update_or_create(
        slug="vip",
        defaults={
            "name": "VIP",
            "priority_bonus": 50,
            "required_skill": skills["vip"],
            "required_level": 1,
        },
    )
    office, _ = BusinessHours.objects.get_or_create(name="Weekdays 08:00-20:00")
    for weekday in (
        Weekday.MONDAY,
        Weekday.TUESDAY,
        Weekday.WEDNESDAY,
        Weekday.THURSDAY,
        Weekday.FRIDAY,
    ):
        BusinessHoursInterval.objects.get_or_create(
            calendar=office, weekday=weekday, opens=time(8), closes=time(20)
        )
    teams = {team.name: team for team in Team.objects.filter(name__in=["Sales", "Support"])}
    queues = {}
    for slug, name, team_names, required, strategy, priority in QUEUES:
        queue, _ = Queue.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "strategy": strategy,
                "priority": priority,
                "announce_interval_seconds": 60,
                "max_wait_seconds": 900,
                "wrap_up_seconds": 15,
                "ring_timeout_seconds": 20,
            },
        )
        queue.teams.set([teams[team] for team in team_names if team in teams])
        for skill_slug, level in required.items():
            QueueSkill.objects.update_or_create(
                queue=queue, skill=skills[skill_slug], defaults={"min_level": level}
            )
        queues[slug] = queue
    _overflow(
        queues["sales"],
        [
            {"after_seconds": 60, "action": OverflowAction.RELAX_LEVELS, "relax_by": 2},
            {
                "after_seconds": 120,
                "action": OverflowAction.ADD_POOL,
                "backup_teams": [teams["Support"]] if "Support" in teams else [],
            },
            {"after_seconds": 180, "action": OverflowAction.OFFER_CALLBACK},
            {"after_seconds": 600, "action": OverflowAction.VOICEMAIL, "target": "sales"},
        ],
    )
    _overflow(
        queues["after_sales"],
        [
            {
                "after_seconds": 90,
                "action": OverflowAction.ADD_POOL,
                "backup_queue": queues["sales"],
            },
            {"after_seconds": 240, "action": OverflowAction.OFFER_CALLBACK},
        ],
    )
    for agent in Agent.objects.select_related("user").filter(user__username__in=AGENT_SKILLS):
        for skill_slug, level in AGENT_SKILLS[agent.user.username].items():
            services.agent_skill_set(agent=agent, skill=skills[skill_slug], level=level)
    return [
        f"  routing: {len(skills)} skills, {len(queues)} queues "
        f"({', '.join(sorted(queues))}), VIP tier, demo agents' skills"
    ]
