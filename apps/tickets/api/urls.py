from django.urls import path

from apps.tickets.api import views

urlpatterns = [
    path("", views.TicketListView.as_view(), name="ticket-list"),
    path("departments/", views.DepartmentListView.as_view(), name="ticket-department-list"),
    path("categories/", views.CategoryListView.as_view(), name="ticket-category-list"),
    path("<int:ticket_id>/", views.TicketDetailView.as_view(), name="ticket-detail"),
    path(
        "<int:ticket_id>/transitions/",
        views.TicketTransitionView.as_view(),
        name="ticket-transitions",
    ),
    path(
        "<int:ticket_id>/assignment/",
        views.TicketAssignmentView.as_view(),
        name="ticket-assignment",
    ),
    path("<int:ticket_id>/handoff/", views.TicketHandoffView.as_view(), name="ticket-handoff"),
    path(
        "<int:ticket_id>/comments/",
        views.TicketCommentListView.as_view(),
        name="ticket-comment-list",
    ),
    path(
        "<int:ticket_id>/attachments/",
        views.TicketAttachmentListView.as_view(),
        name="ticket-attachment-list",
    ),
    path(
        "<int:ticket_id>/attachments/<int:attachment_id>/download/",
        views.TicketAttachmentDownloadView.as_view(),
        name="ticket-attachment-download",
    ),
    path("<int:ticket_id>/watchers/", views.TicketWatcherView.as_view(), name="ticket-watchers"),
    path("<int:ticket_id>/links/", views.TicketLinkView.as_view(), name="ticket-links"),
    path("<int:ticket_id>/events/", views.TicketEventListView.as_view(), name="ticket-events"),
    path(
        "<int:ticket_id>/self-service-link/",
        views.TicketSelfServiceLinkView.as_view(),
        name="ticket-self-service-link",
    ),
]
