from django.urls import path

from apps.accounts.api import views

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("teams/", views.TeamListView.as_view(), name="team-list"),
    path("teams/<int:team_id>/", views.TeamDetailView.as_view(), name="team-detail"),
    path("agents/", views.AgentListView.as_view(), name="agent-list"),
    path("agents/export/", views.AgentExportView.as_view(), name="agent-export"),
    path("agents/<int:agent_id>/", views.AgentDetailView.as_view(), name="agent-detail"),
    path(
        "agents/<int:agent_id>/sip-credentials/",
        views.AgentSipCredentialsView.as_view(),
        name="agent-sip-credentials",
    ),
]
