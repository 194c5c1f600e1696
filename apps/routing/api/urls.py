from django.urls import path

from apps.routing.api import views

urlpatterns = [
    path("agents/me/state/", views.MyStateView.as_view(), name="routing-my-state"),
    path("agents/states/", views.AgentStateListView.as_view(), name="routing-agent-states"),
    path(
        "agents/<int:agent_id>/state/",
        views.AgentStateView.as_view(),
        name="routing-agent-state",
    ),
    path("queues/", views.QueueListView.as_view(), name="routing-queue-list"),
    path("queues/<int:queue_id>/", views.QueueDetailView.as_view(), name="routing-queue-detail"),
    path(
        "queues/<int:queue_id>/stats/", views.QueueStatsView.as_view(), name="routing-queue-stats"
    ),
    path(
        "queues/<int:queue_id>/waiting-calls/",
        views.QueueWaitingCallsView.as_view(),
        name="routing-queue-waiting-calls",
    ),
    path(
        "queues/<int:queue_id>/staffing/",
        views.QueueStaffingView.as_view(),
        name="routing-queue-staffing",
    ),
    path("erlang-c/", views.ErlangCView.as_view(), name="routing-erlang-c"),
]
