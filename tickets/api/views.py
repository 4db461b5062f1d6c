"""REST API viewsets: validate input, call a service or selector, serialize the result."""

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from tickets import services
from tickets.api import serializers as s
from tickets.models import Customer, Message, Purchase, Tag, Ticket
from tickets.selectors import (
    STATUS_ANY,
    _apply_customer_filters,
    filtered_tickets,
    visible_tickets,
)


def _query_params(serializer_class, request: Request) -> dict:
    params = serializer_class(data=request.query_params)
    params.is_valid(raise_exception=True)
    return params.validated_data


@extend_schema_view(
    list=extend_schema(parameters=[s.TicketFilterSerializer]),
    create=extend_schema(request=s.TicketCreateSerializer, responses={201: s.TicketSerializer}),
    partial_update=extend_schema(
        request=s.TicketUpdateSerializer, responses={200: s.TicketSerializer}
    ),
)
class TicketViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Tickets: list with filters, open one (with its first message), read, change fields.
    A ticket the caller may not see is absent from the list and a 404 everywhere else."""

    serializer_class = s.TicketSerializer
    queryset = Ticket.objects.select_related("customer", "team", "assignee").prefetch_related(
        "tags"
    )

    def get_queryset(self) -> QuerySet:
        if self.action != "list":
            return visible_tickets(self.request.user, self.queryset)
        filters = {"status": STATUS_ANY, **_query_params(s.TicketFilterSerializer, self.request)}
        tickets = filtered_tickets(user=self.request.user, filters=filters)
        return tickets.select_related("customer", "team", "assignee").prefetch_related("tags")

    def create(self, request: Request) -> Response:
        payload = s.TicketCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fields = dict(payload.validated_data)
        customer, _ = services.find_or_create_customer(
            email=fields.pop("customer_email"), name=fields.pop("customer_name", "")
        )
        ticket = services.create_ticket(customer=customer, actor=request.user, **fields)
        return Response(self._represent(ticket), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk=None) -> Response:
        payload = s.TicketUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ticket = services.update_ticket(
            ticket=self.get_object(), actor=request.user, **payload.validated_data
        )
        return Response(self._represent(ticket))

    @extend_schema(request=s.ReplySerializer, responses={201: s.MessageSerializer})
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk=None) -> Response:
        """Reply to the customer; the message is emailed after the request commits."""
        payload = s.ReplySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        message = services.reply_to_ticket(
            ticket=self.get_object(), author=request.user, **payload.validated_data
        )
        return self._created_message(message)

    @extend_schema(request=s.NoteSerializer, responses={201: s.MessageSerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, pk=None) -> Response:
        """Add an internal note, visible to staff only."""
        payload = s.NoteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        message = services.add_internal_note(
            ticket=self.get_object(), author=request.user, **payload.validated_data
        )
        return self._created_message(message)

    def _represent(self, ticket: Ticket) -> dict:
        return self.get_serializer(self.queryset.get(pk=ticket.pk)).data

    def _created_message(self, message: Message) -> Response:
        context = self.get_serializer_context()
        return Response(
            s.MessageSerializer(message, context=context).data, status=status.HTTP_201_CREATED
        )


@extend_schema_view(list=extend_schema(summary="The ticket's thread, oldest first, notes included"))
class TicketMessageViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.MessageSerializer

    def get_queryset(self) -> QuerySet:
        tickets = visible_tickets(self.request.user, Ticket.objects.only("pk"))
        ticket = get_object_or_404(tickets, pk=self.kwargs["ticket_pk"])
        thread = Message.objects.filter(ticket=ticket)
        return thread.select_related("author").prefetch_related("attachments")


@extend_schema_view(list=extend_schema(parameters=[s.CustomerFilterSerializer]))
class CustomerViewSet(viewsets.ModelViewSet):
    """Customer profiles; a customer with tickets cannot be deleted."""

    serializer_class = s.CustomerSerializer
    queryset = Customer.objects.prefetch_related("tags")

    def get_queryset(self) -> QuerySet:
        if self.action != "list":
            return self.queryset
        filters = _query_params(s.CustomerFilterSerializer, self.request)
        customers = self.queryset
        if filters.get("email"):
            customers = customers.with_address(filters["email"])
        if filters.get("q"):
            query = filters["q"]
            customers = customers.filter(Q(name__icontains=query) | Q(email__icontains=query))
        return _apply_customer_filters(customers, filters, "pk")

    def perform_create(self, serializer: s.CustomerSerializer) -> None:
        fields = dict(serializer.validated_data)
        tags = fields.pop("tags", None)
        serializer.instance = services.create_customer(
            actor=self.request.user, data=fields, tags=tags
        )

    def perform_update(self, serializer: s.CustomerSerializer) -> None:
        fields = dict(serializer.validated_data)
        tags = fields.pop("tags", None)
        serializer.instance = services.update_customer(
            customer=serializer.instance, actor=self.request.user, data=fields, tags=tags
        )

    def perform_destroy(self, instance: Customer) -> None:
        services.delete_customer(customer=instance, actor=self.request.user)


@extend_schema_view(
    list=extend_schema(parameters=[s.PurchaseFilterSerializer]),
    create=extend_schema(
        summary="Create many purchases at once, all or none",
        request=s.PurchaseSerializer(many=True),
        # A plain array: given as PurchaseSerializer(many=True), the schema generator wraps a
        # list in this view's pagination, which this answer does not have.
        responses={201: {"type": "array", "items": {"$ref": "#/components/schemas/Purchase"}}},
    ),
)
class PurchaseViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.PurchaseSerializer
    queryset = Purchase.objects.all()

    def get_queryset(self) -> QuerySet:
        filters = _query_params(s.PurchaseFilterSerializer, self.request)
        if filters.get("customer"):
            return self.queryset.filter(customer_id=filters["customer"])
        return self.queryset

    def create(self, request: Request) -> Response:
        payload = s.PurchaseSerializer(
            data=request.data, many=True, allow_empty=False, max_length=s.PURCHASES_PER_REQUEST
        )
        payload.is_valid(raise_exception=True)
        purchases = services.create_purchases(purchases=payload.validated_data)
        return Response(
            s.PurchaseSerializer(purchases, many=True).data, status=status.HTTP_201_CREATED
        )


class TagViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.TagSerializer
    queryset = Tag.objects.all()

    @extend_schema(responses={201: s.TagSerializer})
    def create(self, request: Request) -> Response:
        payload = s.TagSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        tag = services.create_tag(**payload.validated_data)
        return Response(s.TagSerializer(tag).data, status=status.HTTP_201_CREATED)
