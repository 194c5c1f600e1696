"""Demo users, teams and agents (dev profile only). Known passwords, printed by run_demo."""

from __future__ import annotations

from django.db import transaction

from apps.accounts.models import Agent, Team, User
from apps.accounts.services import service_account_create, team_set_supervisors, user_create
from apps.rbac import roles

DEMO_LOGINS: list[tuple[str, str, str]] = [
    # (username, password, role)
    ("admin", "admin-demo", roles.ADMINISTRATOR),
    ("supervisor1", "supervisor-demo", roles.SUPERVISOR),
    ("supervisor2", "supervisor-demo", roles.SUPERVISOR),
    ("qa1", "qa-demo", roles.QA_ANALYST),
    ("agent1", "agent-demo", roles.AGENT),
    ("agent2", "agent-demo", roles.AGENT),
    ("agent3", "agent-demo", roles.AGENT),
    ("agent4", "agent-demo", roles.AGENT),
    ("agent5", "agent-demo", roles.AGENT),
    ("agent6", "agent-demo", roles.AGENT),
]
DEMO_TEAMS = {
    "Sales": ("supervisor1", ["agent1", "agent2", "agent3"]),
    "Support": ("supervisor2", ["agent4", "agent5", "agent6"]),
}
DEMO_NAMES = {
    "agent1": ("Li", "Wei", "zh-hans"),
    "agent2": ("Emma", "Brown", "en"),
    "agent3": ("Zhang", "Min", "zh-hans"),
    "agent4": ("Noah", "Smith", "en"),
    "agent5": ("Wang", "Fang", "zh-hans"),
    "agent6": ("Olivia", "Jones", "en"),
}


@transaction.atomic
def seed() -> list[str]:
    """Create the demo users, teams and agents if missing; return lines to print."""
    lines: list[str] = []
    for username, password, role in DEMO_LOGINS:
        first, last, language = DEMO_NAMES.get(username, (username.title(), "", "en"))
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                username=username,
                password=password,
                role=role,
                first_name=first,
                last_name=last,
                language=language,
            )
            if role == roles.ADMINISTRATOR:
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
        lines.append(f"  {role:<14} {username:<12} {password}")
    for extension, (team_name, (supervisor, members)) in enumerate(DEMO_TEAMS.items()):
        team, _ = Team.objects.get_or_create(name=team_name)
        team_set_supervisors(team=team, supervisors=[User.objects.get(username=supervisor)])
        for offset, username in enumerate(members):
            Agent.objects.get_or_create(
                user=User.objects.get(username=username),
                defaults={"team": team, "extension": f"{1001 + extension * 3 + offset}"},
            )
    if not User.objects.filter(username="crm").exists():
        _, token = service_account_create(name="crm")
        lines.append(f"  {roles.API_CLIENT:<14} crm          token {token}")
    else:
        from rest_framework.authtoken.models import Token

        token = Token.objects.get(user__username="crm").key
        lines.append(f"  {roles.API_CLIENT:<14} crm          token {token}")
    return lines
