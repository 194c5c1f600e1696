"""Thin adapters: validate, one access check, one service call, serialize."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.pagination import DefaultCursorPagination
from apps.core.errors import InvalidInput, NotFound
from apps.customers import services
from apps.customers.access import access_customer_by_id, access_identity_by_id
from apps.customers.api.filters import CustomerFilter, InteractionFilter
from apps.customers.api.serializers import (
    CustomerCreateSerializer,
    CustomerSerializer,
    CustomerUpdateSerializer,
    IdentityInputSerializer,
    IdentitySerializer,
    ImportReportSerializer,
    ImportRequestSerializer,
    InteractionCreateSerializer,
    InteractionSerializer,
    MergeResultSerializer,
    MergeSerializer,
    RevealResultSerializer,
    RevealSerializer,
)
from apps.customers.csv_import import customer_import_csv
from apps.customers.models import Customer, IdentityKind, Interaction
from apps.customers.selectors import customer_list, customer_lookup, interaction_list
from apps.rbac.permissions import HasModelPermissions

VIEW = "customers.view_customer"
ADD = "customers.add_customer"
CHANGE = "customers.change_customer"


def _customer_response(customer: Customer, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(CustomerSerializer(customer).data, status=status_code)


class CustomerListView(generics.ListAPIView):
    """Customers; `?phone=` / `?email=` look one up by identity in any format."""

    serializer_class = CustomerSerializer
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [VIEW], "post": [ADD]}
    filterset_class = CustomerFilter
    ordering = "-id"
    ordering_fields = ["id"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Customer.objects.none()
        return customer_list(actor=self.request.user)

    @extend_schema(request=CustomerCreateSerializer, responses={201: CustomerSerializer})
    def post(self, request: Request) -> Response:
        serializer = CustomerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        identities = [
            services.IdentityInput(kind="phone", value=value, is_primary=position == 0)
            for position, value in enumerate(data.pop("phones", []))
        ]
        identities += [
            services.IdentityInput(kind="email", value=value, is_primary=position == 0)
            for position, value in enumerate(data.pop("emails", []))
        ]
        identities += [services.IdentityInput(**item) for item in data.pop("identities", [])]
        customer = services.customer_create(actor=request.user, identities=identities, **data)
        return _customer_response(customer, status.HTTP_201_CREATED)


class CustomerLookupView(APIView):
    """Resolve one contact to its customer: the CRM and screen-pop lookup (404 when unknown).

    Give `phone` (any format), `email`, or `kind` and `value` for another identity.
    """

    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [VIEW]}

    @extend_schema(
        parameters=[
            OpenApiParameter("phone", str, description="Phone number in any format"),
            OpenApiParameter("email", str, description="E-mail address"),
            OpenApiParameter("kind", str, enum=IdentityKind.values, description="Identity kind"),
            OpenApiParameter("value", str, description="Identity value (with kind)"),
        ],
        responses={200: CustomerSerializer, 404: OpenApiResponse(description="Nobody has it")},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        if params.get("phone"):
            kind, value = IdentityKind.PHONE, params["phone"]
        elif params.get("email"):
            kind, value = IdentityKind.EMAIL, params["email"]
        elif params.get("kind") and params.get("value"):
            kind, value = params["kind"], params["value"]
        else:
            raise InvalidInput(_("Give a phone, an email, or a kind and a value."), field="phone")
        customer = customer_lookup(actor=request.user, kind=kind, value=value)
        if customer is None:
            raise NotFound(_("No customer has this %(kind)s.") % {"kind": kind})
        return _customer_response(customer)


class CustomerDetailView(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [VIEW], "patch": [VIEW, CHANGE]}

    @extend_schema(responses=CustomerSerializer)
    def get(self, request: Request, customer_id: int) -> Response:
        return _customer_response(access_customer_by_id(request.user, customer_id))

    @extend_schema(request=CustomerUpdateSerializer, responses=CustomerSerializer)
    def patch(self, request: Request, customer_id: int) -> Response:
        serializer = CustomerUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        customer = access_customer_by_id(request.user, customer_id)
        customer = services.customer_update(
            actor=request.user, customer=customer, **serializer.validated_data
        )
        return _customer_response(customer)


class CustomerMergeView(APIView):
    """Merge a duplicate into this customer (the duplicate stays as a tombstone)."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"post": [VIEW, CHANGE, "customers.merge_customers"]}

    @extend_schema(request=MergeSerializer, responses={201: MergeResultSerializer})
    def post(self, request: Request, customer_id: int) -> Response:
        serializer = MergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        survivor = access_customer_by_id(request.user, customer_id)
        duplicate = access_customer_by_id(request.user, serializer.validated_data["duplicate"])
        merge = services.customer_merge(actor=request.user, survivor=survivor, duplicate=duplicate)
        return Response(MergeResultSerializer(merge).data, status=status.HTTP_201_CREATED)


class CustomerIdentityListView(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {"post": [VIEW, CHANGE]}

    @extend_schema(request=IdentityInputSerializer, responses={201: IdentitySerializer})
    def post(self, request: Request, customer_id: int) -> Response:
        serializer = IdentityInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = access_customer_by_id(request.user, customer_id)
        identity = services.customer_identity_add(
            actor=request.user, customer=customer, **serializer.validated_data
        )
        return Response(IdentitySerializer(identity).data, status=status.HTTP_201_CREATED)


class CustomerIdentityDetailView(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {"delete": [VIEW, CHANGE]}

    @extend_schema(responses={204: None})
    def delete(self, request: Request, customer_id: int, identity_id: int) -> Response:
        customer = access_customer_by_id(request.user, customer_id)
        identity = access_identity_by_id(request.user, customer, identity_id)
        services.customer_identity_remove(actor=request.user, identity=identity)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerRevealView(APIView):
    """Reveal one masked field; every reveal is written to the access log."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"post": [VIEW, "customers.reveal_sensitive"]}

    @extend_schema(request=RevealSerializer, responses=RevealResultSerializer)
    def post(self, request: Request, customer_id: int) -> Response:
        serializer = RevealSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = access_customer_by_id(request.user, customer_id)
        field = serializer.validated_data["field"]
        value = services.customer_reveal_sensitive(
            actor=request.user, customer=customer, field=field, request=request
        )
        return Response(RevealResultSerializer({"field": field, "value": value}).data)


class TimelinePagination(DefaultCursorPagination):
    ordering = ("-occurred_at", "-id")


class InteractionListView(generics.ListAPIView):
    """The customer's interaction timeline across channels, newest first."""

    serializer_class = InteractionSerializer
    pagination_class = TimelinePagination
    permission_classes = [HasModelPermissions]
    required_permissions = {
        "get": [VIEW, "customers.view_interaction"],
        "post": [VIEW, "customers.add_interaction"],
    }
    filterset_class = InteractionFilter
    ordering = ("-occurred_at", "-id")
    ordering_fields = ["occurred_at"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Interaction.objects.none()
        customer = access_customer_by_id(self.request.user, self.kwargs["customer_id"])
        return interaction_list(actor=self.request.user, customer=customer)

    @extend_schema(request=InteractionCreateSerializer, responses={201: InteractionSerializer})
    def post(self, request: Request, customer_id: int) -> Response:
        serializer = InteractionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = access_customer_by_id(request.user, customer_id)
        interaction = services.interaction_record(
            actor=request.user,
            customer=customer,
            agent=None if request.user.is_service_account else request.user,
            **serializer.validated_data,
        )
        return Response(InteractionSerializer(interaction).data, status=status.HTTP_201_CREATED)


class CustomerImportView(APIView):
    """Import a CSV: nothing is written when a row is invalid, unless skip_invalid is set."""

    parser_classes = [MultiPartParser, FormParser]
    permission_classes = [HasModelPermissions]
    required_permissions = {"post": [ADD, CHANGE, "customers.import_customers"]}

    @extend_schema(
        request={"multipart/form-data": ImportRequestSerializer},
        responses={
            200: ImportReportSerializer,
            400: OpenApiResponse(
                ImportReportSerializer, description="Invalid rows, nothing imported"
            ),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = ImportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = customer_import_csv(
            actor=request.user,
            content=serializer.validated_data["file"].read(),
            skip_invalid=serializer.validated_data["skip_invalid"],
            dry_run=serializer.validated_data["dry_run"],
        )
        failed = report.errors and not report.committed and not report.dry_run
        return Response(
            ImportReportSerializer(report).data,
            status=status.HTTP_400_BAD_REQUEST if failed else status.HTTP_200_OK,
        )
