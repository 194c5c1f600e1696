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
        # Routing: their own state (available / not ready / offline) and their queues' figures.
        "routing.view_agentpresence",
        "routing.change_agentpresence",
        "routing.view_queue",
        "routing.view_queue_stats",
        "routing.view_skill",
        # Telephony: their own calls (legs they took part in) with CDRs.
        "telephony.view_call",
        # Customers and tickets: agents see every customer (masked) and their team's tickets.
        "customers.view_customer",
        "customers.add_customer",
        "customers.change_customer",
        "customers.view_interaction",
        "customers.add_interaction",
        "tickets.view_ticket",
        "tickets.add_ticket",
        "tickets.change_ticket",
        "tickets.add_ticketcomment",
        "tickets.add_ticketattachment",
        # Knowledge base: read and search (internal articles too), give feedback, record usage.
        "knowledge.view_article",
        "knowledge.view_category",
        "knowledge.view_internal_article",
        "knowledge.add_articlefeedback",
        "knowledge.add_articleusage",
        # Console: their screen-pops and call controls, wrap-ups and callbacks.
        "console.use_console",
        "console.view_dispositioncode",
        "console.view_wrapup",
        "console.add_wrapup",
        "console.view_scheduledcallback",
        "console.add_scheduledcallback",
        "console.change_scheduledcallback",
    },
    SUPERVISOR: {
        "accounts.view_team",
        # Routing: their teams' agents' states, their queues' lines and figures, staffing.
        "routing.view_agentpresence",
        "routing.change_agentpresence",
        "routing.view_queue",
        "routing.view_queue_stats",
        "routing.view_waitingcall",
        "routing.view_skill",
        "routing.view_agentskill",
        "routing.plan_staffing",
        # Telephony: calls their teams' agents took part in, with CDRs.
        "telephony.view_call",
        "accounts.view_agent",
        "accounts.change_agent",
        "accounts.export_agents",
        # IVR: where callers give up (reports on the paths callers took).
        "ivr.view_ivrpath",
        # Customers and tickets: as agents, plus merge, import and revealing masked fields.
        "customers.view_customer",
        "customers.add_customer",
        "customers.change_customer",
        "customers.merge_customers",
        "customers.import_customers",
        "customers.reveal_sensitive",
        "customers.view_interaction",
        "customers.add_interaction",
        "tickets.view_ticket",
        "tickets.add_ticket",
        "tickets.change_ticket",
        "tickets.add_ticketcomment",
        "tickets.add_ticketattachment",
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
        # Console: view their agents' consoles and act on their calls.
        "console.use_console",
        "console.view_dispositioncode",
        "console.view_wrapup",
        "console.add_wrapup",
        "console.view_scheduledcallback",
        "console.add_scheduledcallback",
        "console.change_scheduledcallback",
    },
    QA_ANALYST: {
        "accounts.view_agent",
        # Routing: the queues assigned to them (object permission routing.review_queue).
        "routing.view_agentpresence",
        "routing.view_queue",
        "routing.view_queue_stats",
        "routing.view_waitingcall",
        # IVR: the paths callers took (reports).
        "ivr.view_ivrpath",
        # Customers and tickets: read only (masked fields stay masked).
        "customers.view_customer",
        "customers.view_interaction",
        "tickets.view_ticket",
        # Knowledge base: read and search (internal articles too), give feedback, record usage.
        "knowledge.view_article",
        "knowledge.view_category",
        "knowledge.view_internal_article",
        "knowledge.add_articlefeedback",
        "knowledge.add_articleusage",
    },
    API_CLIENT: {
        # Telephony: every call with its CDR (CRM call history).
        "telephony.view_call",
        # CRMs pull and push customers, interactions and tickets (never reveal masked fields).
        "customers.view_customer",
        "customers.add_customer",
        "customers.change_customer",
        "customers.merge_customers",
        "customers.view_interaction",
        "customers.add_interaction",
        "tickets.view_ticket",
        "tickets.add_ticket",
        "tickets.change_ticket",
        "tickets.add_ticketcomment",
        "tickets.add_ticketattachment",
        # Knowledge base: published public articles only (read and search).
        "knowledge.view_article",
        "knowledge.view_category",
    },
}
