"""The console API: thin adapters (validate, one access check, one service or selector call).

Every view acts for the agent whose console is open: the actor's own, or with ``agent`` (query
parameter or body field) one a supervisor may view. Missing and forbidden calls answer 404.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.console import selectors, services
from apps.console.access import (
    access_call_control,
    access_call_for_console,
    access_callback_by_id,
    access_console_agent,
)
from apps.console.api.serializers import (
    CallbackUpdateSerializer,
    CallerCustomerSerializer,
    ControlResultSerializer,
    ControlSerializer,
    ExtendSerializer,
    NotificationReadSerializer,
    StateSerializer,
    WrapUpSerializer,
)
from apps.console.integrations import function
from apps.core.errors import ServiceUnavailable
from apps.rbac.permissions import HasModelPermissions

USE = "console.use_console"
AGENT_PARAMETER = OpenApiParameter(
    "agent", int, description="The agent whose console a supervisor is viewing."
)


def _agent_param(request: Request) -> Any:
    return request.query_params.get("agent")


class ControlView(APIView):
    """Hold, resume, hang up, transfer (blind or consultative) or send DTMF on a live call."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"post": [USE]}

    @extend_schema(request=ControlSerializer, responses={202: ControlResultSerializer})
    def post(self, request: Request, call_id: int) -> Response:
        serializer = ControlSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        context = access_call_control(request.user, call_id, data.get("agent"))
        target_data = data.get("target")
        target = (
            services.TransferTarget(
                kind=target_data["kind"],
                agent_id=target_data.get("agent_id"),
                queue_slug=target_data.get("queue", ""),
                number=target_data.get("number", ""),
            )
            if target_data
            else None
        )
        commands = services.call_control_request(
            actor=request.user,
            context=context,
            action=data["action"],
            request_id=data["request_id"],
            target=target,
            digits=data.get("digits", ""),
        )
        return Response(
            {
                "call_id": context.call.pk,
                "action": data["action"],
                "request_id": data["request_id"],
                "commands": [
                    {"id": command.pk, "kind": command.kind, "status": command.status}
                    for command in commands
                ],
            },
            status=status.HTTP_202_ACCEPTED,
        )


class ScreenPopView(APIView):
    """The call's screen-pop core: call, caller, matched customer, queue, IVR path."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [USE]}

    @extend_schema(parameters=[AGENT_PARAMETER], responses=dict)
    def get(self, request: Request, call_id: int) -> Response:
        call, agent = access_call_for_console(request.user, call_id, _agent_param(request))
        return Response({**selectors.screen_pop_cached(call=call), "agent_id": agent.pk})


class ScreenPopSectionView(APIView):
    """One section of the screen-pop, as the actor may see it: history, tickets or articles."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [USE]}
    sections = {
        "history": selectors.screen_pop_history,
        "tickets": selectors.screen_pop_tickets,
        "articles": selectors.screen_pop_articles,
    }

    @extend_schema(
        parameters=[AGENT_PARAMETER],
        responses=dict,
        operation_id="console_calls_screen_pop_section_retrieve",
    )
    def get(self, request: Request, call_id: int, section: str) -> Response:
        call, _agent = access_call_for_console(request.user, call_id, _agent_param(request))
        return Response(self.sections[section](actor=request.user, call=call))


class CallerCustomerView(APIView):
    """Unknown caller: create a customer with the caller's number, or add it to a customer."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"post": [USE]}

    @extend_schema(request=CallerCustomerSerializer, responses={201: dict})
    def post(self, request: Request, call_id: int) -> Response:
        serializer = CallerCustomerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        needed = (
            "customers.add_customer" if data["mode"] == "create" else ("customers.change_customer")
        )
        if not request.user.has_perm(needed):
            raise PermissionDenied()
        call, agent = access_call_for_console(request.user, call_id, data.get("agent"))
        if data["mode"] == "create":
            customer = services.caller_customer_create(
                actor=request.user,
                call=call,
                agent=agent,
                name=data["name"],
                language=data["language"],
                company=data["company"],
            )
        else:
            access_customer = function("access_customer_by_id")
            if access_customer is None:
                raise ServiceUnavailable(_("Customer records are not available yet."))
            customer = services.caller_customer_link(
                actor=request.user,
                call=call,
                agent=agent,
                customer=access_customer(request.user, data["customer_id"]),
            )
        return Response(selectors.customer_card(customer), status=status.HTTP_201_CREATED)


class WrapUpView(APIView):
    """The wrap-up of a call: its disposition codes and saved wrap-up (GET), or submit it."""

    permission_classes = [HasModelPermissions]
    required_permissions = {
        "get": [USE, "console.view_dispositioncode"],
        "post": [USE, "console.add_wrapup"],
    }

    @extend_schema(parameters=[AGENT_PARAMETER], responses=dict)
    def get(self, request: Request, call_id: int) -> Response:
        call, agent = access_call_for_console(request.user, call_id, _agent_param(request))
        from apps.console.models import WrapUp

        existing = (
            WrapUp.objects.filter(call_uuid=call.uuid, agent=agent)
            .select_related("disposition")
            .first()
        )
        return Response(
            {
                "call_id": call.pk,
                "dispositions": [
                    selectors.disposition_payload(code)
                    for code in selectors.disposition_list_for_call(call)
                ],
                "wrap_up": selectors.wrap_up_payload(existing),
                "prefill": {
                    "number": selectors.customer_number(call),
                    "queue": selectors.queue_summary(call.queue_slug),
                },
            }
        )

    @extend_schema(request=WrapUpSerializer, responses={201: dict})
    def post(self, request: Request, call_id: int) -> Response:
        serializer = WrapUpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        call, agent = access_call_for_console(request.user, call_id, data.get("agent"))
        ticket_data = data.get("ticket")
        callback_data = data.get("callback")
        wrap_up = services.wrap_up_submit(
            actor=request.user,
            call=call,
            agent=agent,
            disposition_id=data.get("disposition"),
            notes=data.get("notes", ""),
            ticket=services.TicketRequest(**ticket_data) if ticket_data else None,
            callback=services.CallbackRequest(**callback_data) if callback_data else None,
            ready=data.get("ready", True),
        )
        return Response(selectors.wrap_up_payload(wrap_up), status=status.HTTP_201_CREATED)


class StateView(APIView):
    """Set the agent's state: available, not ready (with a reason) or offline."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"post": [USE]}

    @extend_schema(request=StateSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        serializer = StateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subject = access_console_agent(request.user, data.get("agent"))
        services.agent_state_request(
            actor=request.user, agent=subject.agent, state=data["state"], reason=data["reason"]
        )
        return Response(selectors.agent_presence(subject.agent))


class WrapUpExtendView(APIView):
    """Ask for more wrap-up time before the agent becomes available again."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"post": [USE]}

    @extend_schema(request=ExtendSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        serializer = ExtendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subject = access_console_agent(request.user, data.get("agent"))
        services.wrap_up_extend_request(
            actor=request.user, agent=subject.agent, seconds=data["seconds"]
        )
        return Response(selectors.agent_presence(subject.agent))


class TransferTargetsView(APIView):
    """Where the agent may transfer a call: their team's agents (with state) and the queues."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [USE]}

    @extend_schema(parameters=[AGENT_PARAMETER], responses=dict)
    def get(self, request: Request) -> Response:
        subject = access_console_agent(request.user, _agent_param(request))
        return Response(selectors.transfer_targets(agent=subject.agent))


class SnapshotView(APIView):
    """Everything the console shows, as the WebSocket sends it on connect (for a resync)."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [USE]}

    @extend_schema(parameters=[AGENT_PARAMETER], responses=dict)
    def get(self, request: Request) -> Response:
        subject = access_console_agent(request.user, _agent_param(request))
        return Response(
            selectors.console_snapshot(
                actor=request.user, agent=subject.agent, viewing=subject.viewing
            )
        )


class NotificationReadView(APIView):
    """Mark notifications read (every console of the user drops them)."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"post": [USE]}

    @extend_schema(request=NotificationReadSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        serializer = NotificationReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        count = services.notification_mark_read(
            user=request.user, ids=serializer.validated_data["ids"]
        )
        return Response({"read": count})


class CallbackListView(APIView):
    """The agent's callbacks still to make."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [USE, "console.view_scheduledcallback"]}

    @extend_schema(parameters=[AGENT_PARAMETER], responses=dict)
    def get(self, request: Request) -> Response:
        subject = access_console_agent(request.user, _agent_param(request))
        return Response({"results": selectors.callback_list_open(agent=subject.agent)})


class CallbackDetailView(APIView):
    """Mark a callback made or cancelled."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"patch": [USE, "console.change_scheduledcallback"]}

    @extend_schema(request=CallbackUpdateSerializer, responses={200: dict})
    def patch(self, request: Request, callback_id: int) -> Response:
        serializer = CallbackUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        callback = access_callback_by_id(request.user, callback_id, data.get("agent"))
        callback = services.callback_close(
            actor=request.user, callback=callback, done=data["status"] == "done"
        )
        return Response(selectors.callback_payload(callback))
