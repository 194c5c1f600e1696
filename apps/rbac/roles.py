"""The roles and the model permissions each one holds: the one place they are defined.

Least privilege: a role gets only what its work needs. Object-level limits (which teams a supervisor
runs, which queues a QA analyst reviews) are django-guardian permissions checked in each app's
access.py. Later apps add their permissions here.
"""

from __future__ import annotations

AGENT = "Agent"
SUPERVISOR = "Supervisor"
QA_ANALYST = "QA Analyst"
ADMINISTRATOR = "Administrator"
API_CLIENT = "API client"

ALL_ROLES = (AGENT, SUPERVISOR, QA_ANALYST, ADMINISTRATOR, API_CLIENT)

# Administrators get every permission; listed roles get exactly these "app_label.codename".
ROLE_PERMISSIONS: dict[str, set[str]] = {
    AGENT: {
        "accounts.view_agent",
        # Knowledge base: read and search (internal articles too), give feedback, record usage.
        "knowledge.view_article",
        "knowledge.view_category",
        "knowledge.view_internal_article",
        "knowledge.add_articlefeedback",
        "knowledge.add_articleusage",
    },
    SUPERVISOR: {
        "accounts.view_team",
        "accounts.view_agent",
        "accounts.change_agent",
        "accounts.export_agents",
        # Knowledge base: read and search (internal articles too), give feedback, record usage.
        "knowledge.view_article",
        "knowledge.view_category",
        "knowledge.view_internal_article",
        "knowledge.add_articlefeedback",
        "knowledge.add_articleusage",
        # Knowledge base editors: write, publish, restore versions.
        "knowledge.add_article",
        "knowledge.change_article",
        "knowledge.publish_article",
        "knowledge.view_articleversion",
    },
    QA_ANALYST: {
        "accounts.view_agent",
        # Knowledge base: read and search (internal articles too), give feedback, record usage.
        "knowledge.view_article",
        "knowledge.view_category",
        "knowledge.view_internal_article",
        "knowledge.add_articlefeedback",
        "knowledge.add_articleusage",
    },
    API_CLIENT: {
        # Knowledge base: published public articles only (read and search).
        "knowledge.view_article",
        "knowledge.view_category",
    },
}
