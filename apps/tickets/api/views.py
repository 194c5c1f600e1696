"""Thin adapters: validate, one access check, one service call, serialize."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.rbac.permissions import HasModelPermissions
from apps.tickets import services, workflow
from apps.tickets.access import access_attachment_by_id, access_ticket_by_id
from apps.tickets.api.filters import TicketFilter
from apps.tickets.api.serializers import (
    AllowedActionsSerializer,
    AssignmentSerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    CategorySerializer,
    CommentCreateSerializer,
    CommentSerializer,
    DepartmentSerializer,
    EventSerializer,
    HandoffSerializer,
    LinkSerializer,
    SelfServiceLinkSerializer,
    TicketCreateSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
    TransitionSerializer,
    WatcherSerializer,
)
from apps.tickets.models import (
    Department,
    Origin,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketComment,
    TicketEvent,
)
from apps.tickets.selectors import attachment_list, comment_list, event_list, ticket_list
from apps.tickets.self_service import self_service_link

VIEW = "tickets.view_ticket"
CHANGE = "tickets.change_ticket"


def _ticket_response(request: Request, ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
    """Answer with the ticket as the actor now sees it; 204 when the change (a reassignment,
    a handoff, leaving the watchers) took it out of their sight."""
    shown = ticket_list(actor=request.user).filter(pk=ticket.pk).first()
    if shown is None:
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(TicketSerializer(shown).data, status=code)


class TicketListView(generics.ListAPIView):
    serializer_class = TicketSerializer
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [VIEW], "post": ["tickets.add_ticket"]}
    filterset_class = TicketFilter
    ordering = "-id"
    ordering_fields = ["id"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Ticket.objects.none()
        return ticket_list(actor=self.request.user)

    @extend_schema(request=TicketCreateSerializer, responses={201: TicketSerializer})
    def post(self, request: Request) -> Response:
        serializer = TicketCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.setdefault("channel", Origin.API if request.user.is_service_account else Origin.MANUAL)
        ticket = services.ticket_create(actor=request.user, **data)
        return _ticket_response(request, ticket, status.HTTP_201_CREATED)


class TicketDetailView(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {
        "get": [VIEW],
        "patch": [VIEW, CHANGE],
        "delete": [VIEW, "tickets.delete_ticket"],
    }

    @extend_schema(responses=TicketSerializer)
    def get(self, request: Request, ticket_id: int) -> Response:
        return _ticket_response(request, access_ticket_by_id(request.user, ticket_id))

    @extend_schema(request=TicketUpdateSerializer, responses=TicketSerializer)
    def patch(self, request: Request, ticket_id: int) -> Response:
        serializer = TicketUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        ticket = access_ticket_by_id(request.user, ticket_id)
        ticket = services.ticket_update(
            actor=request.user, ticket=ticket, **serializer.validated_data
        )
        return _ticket_response(request, ticket)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, ticket_id: int) -> Response:
        ticket = access_ticket_by_id(request.user, ticket_id)
        services.ticket_delete(actor=request.user, ticket=ticket)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TicketTransitionView(APIView):
    """Lifecycle actions. An action that does not fit the current status answers 409."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [VIEW], "post": [VIEW, CHANGE]}

    @extend_schema(responses=AllowedActionsSerializer)
    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = access_ticket_by_id(request.user, ticket_id)
        return Response(
            AllowedActionsSerializer(
                {"status": ticket.status, "actions": workflow.allowed_actions(ticket.status)}
            ).data
        )

    @extend_schema(request=TransitionSerializer, responses=TicketSerializer)
    def post(self, request: Request, ticket_id: int) -> Response:
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = access_ticket_by_id(request.user, ticket_id)
        ticket = services.ticket_transition(
            actor=request.user, ticket=ticket, **serializer.validated_data
        )
        return _ticket_response(request, ticket)


class TicketAssignmentView(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {"post": [VIEW, CHANGE]}

    @extend_schema(request=AssignmentSerializer, responses=TicketSerializer)
    def post(self, request: Request, ticket_id: int) -> Response:
        serializer = AssignmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = access_ticket_by_id(request.user, ticket_id)
        ticket = services.ticket_assign(
            actor=request.user, ticket=ticket, **serializer.validated_data
        )
        return _ticket_response(request, ticket)


class TicketHandoffView(APIView):
    """Hand the ticket to another department (and its team)."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"post": [VIEW, CHANGE]}

    @extend_schema(request=HandoffSerializer, responses=TicketSerializer)
    def post(self, request: Request, ticket_id: int) -> Response:
        serializer = HandoffSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = access_ticket_by_id(request.user, ticket_id)
        services.ticket_handoff(actor=request.user, ticket=ticket, **serializer.validated_data)
        return _ticket_response(request, ticket)


class TicketCommentListView(generics.ListAPIView):
    """Internal notes and customer-facing replies, oldest first."""

    serializer_class = CommentSerializer
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [VIEW], "post": [VIEW, "tickets.add_ticketcomment"]}
    ordering = "id"
    ordering_fields = ["id"]
    filterset_fields = ["visibility", "author_kind"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return TicketComment.objects.none()
        ticket = access_ticket_by_id(self.request.user, self.kwargs["ticket_id"])
        return comment_list(actor=self.request.user, ticket=ticket)

    @extend_schema(request=CommentCreateSerializer, responses={201: CommentSerializer})
    def post(self, request: Request, ticket_id: int) -> Response:
        serializer = CommentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = access_ticket_by_id(request.user, ticket_id)
        comment = services.ticket_comment_add(
            actor=request.user, ticket=ticket, **serializer.validated_data
        )
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class TicketAttachmentListView(generics.ListAPIView):
    serializer_class = AttachmentSerializer
    parser_classes = [MultiPartParser, FormParser]
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [VIEW], "post": [VIEW, "tickets.add_ticketattachment"]}
    ordering = "id"
    ordering_fields = ["id"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return TicketAttachment.objects.none()
        ticket = access_ticket_by_id(self.request.user, self.kwargs["ticket_id"])
        return attachment_list(actor=self.request.user, ticket=ticket)

    @extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer},
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = access_ticket_by_id(request.user, ticket_id)
        attachment = services.ticket_attachment_add(
            actor=request.user,
            ticket=ticket,
            upload=serializer.validated_data["file"],
            comment=serializer.validated_data["comment"],
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


class TicketAttachmentDownloadView(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [VIEW]}

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, ticket_id: int, attachment_id: int) -> FileResponse:
        ticket = access_ticket_by_id(request.user, ticket_id)
        attachment = access_attachment_by_id(request.user, ticket, attachment_id)
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.filename,
            content_type=attachment.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class TicketWatcherView(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {"post": [VIEW, CHANGE], "delete": [VIEW, CHANGE]}

    def _change(self, request: Request, ticket_id: int, *, watch: bool) -> Response:
        serializer = WatcherSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = access_ticket_by_id(request.user, ticket_id)
        user = serializer.validated_data.get("user", request.user)
        services.ticket_watch(actor=request.user, ticket=ticket, user=user, watch=watch)
        return _ticket_response(request, ticket)

    @extend_schema(request=WatcherSerializer, responses=TicketSerializer)
    def post(self, request: Request, ticket_id: int) -> Response:
        return self._change(request, ticket_id, watch=True)

    @extend_schema(request=WatcherSerializer, responses=TicketSerializer)
    def delete(self, request: Request, ticket_id: int) -> Response:
        return self._change(request, ticket_id, watch=False)


class TicketLinkView(APIView):
    """Link a call (by uuid) or one of the customer's interactions to the ticket."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"post": [VIEW, CHANGE]}

    @extend_schema(request=LinkSerializer, responses=TicketSerializer)
    def post(self, request: Request, ticket_id: int) -> Response:
        serializer = LinkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = access_ticket_by_id(request.user, ticket_id)
        if "call_uuid" in serializer.validated_data:
            services.ticket_link_call(
                actor=request.user, ticket=ticket, call_uuid=serializer.validated_data["call_uuid"]
            )
        else:
            services.ticket_link_interaction(
                actor=request.user,
                ticket=ticket,
                interaction=serializer.validated_data["interaction"],
            )
        return _ticket_response(request, ticket)


class TicketEventListView(generics.ListAPIView):
    """The ticket's history: status changes, assignments, handoffs, SLA warnings and breaches."""

    serializer_class = EventSerializer
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [VIEW]}
    ordering = "id"
    ordering_fields = ["id"]
    filterset_fields = ["kind"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return TicketEvent.objects.none()
        ticket = access_ticket_by_id(self.request.user, self.kwargs["ticket_id"])
        return event_list(actor=self.request.user, ticket=ticket)


class TicketSelfServiceLinkView(APIView):
    """A signed link to send the customer: it shows the ticket's status and public replies."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"post": [VIEW, CHANGE]}

    @extend_schema(request=None, responses=SelfServiceLinkSerializer)
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = access_ticket_by_id(request.user, ticket_id)
        path, expires_at = self_service_link(ticket)
        return Response(
            SelfServiceLinkSerializer(
                {"url": request.build_absolute_uri(path), "expires_at": expires_at}
            ).data
        )


class DepartmentListView(generics.ListAPIView):
    serializer_class = DepartmentSerializer
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [VIEW]}
    ordering = "id"
    ordering_fields = ["id"]
    filterset_fields = ["is_active"]
    queryset = Department.objects.all()


class CategoryListView(generics.ListAPIView):
    serializer_class = CategorySerializer
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [VIEW]}
    ordering = "id"
    ordering_fields = ["id"]
    filterset_fields = ["is_active", "department"]
    queryset = TicketCategory.objects.all()
