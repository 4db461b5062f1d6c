"""Serializers validate API input and shape output; every write goes through a service."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from helpdesk.json_documents import unstorable_reason
from helpdesk.models import User
from tickets.directory import agents
from tickets.extensions import badges_for_customers, customer_filters
from tickets.models import Attachment, Customer, Message, Purchase, Tag, Team, Ticket
from tickets.selectors import (
    ASSIGNEE_MINE,
    ASSIGNEE_UNASSIGNED,
    STATUS_ACTIVE,
    STATUS_ANY,
)

# Bounds on free text keep one request from storing megabytes; the search document is cut at
# the same length.
BODY_MAX_CHARS = 100_000
QUERY_MAX_CHARS = 200
PURCHASES_PER_REQUEST = 1000
# Ids beyond the 64-bit range overflow SQLite's and PostgreSQL's integers instead of not matching.
ID_MAX = 2**63 - 1


class TagNamesField(serializers.ListField):
    """Tags as a list of names; reads the prefetched tag set."""

    child = serializers.CharField(max_length=Tag._meta.get_field("name").max_length)

    def to_representation(self, tags):
        return [tag.name for tag in tags.all()]


class UserRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "display_name"]


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "slug"]


class CustomerRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "email", "name"]


class TagSerializer(serializers.ModelSerializer):
    colour = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)

    class Meta:
        model = Tag
        fields = ["id", "name", "colour"]
        extra_kwargs = {"name": {"validators": []}}


class TicketSerializer(serializers.ModelSerializer):
    number = serializers.IntegerField(read_only=True)
    customer = CustomerRefSerializer(read_only=True)
    team = TeamRefSerializer(read_only=True, allow_null=True)
    assignee = UserRefSerializer(read_only=True, allow_null=True)
    tags = TagNamesField(read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "subject",
            "status",
            "priority",
            "channel",
            "customer",
            "team",
            "assignee",
            "tags",
            "created_at",
            "updated_at",
            "first_response_at",
            "solved_at",
            "closed_at",
        ]
        read_only_fields = fields


class CustomerFiltersMixin:
    """The customer filters other apps register (for example ``segment``) as parameters."""

    def get_fields(self) -> dict:
        fields = super().get_fields()
        for customer_filter in customer_filters():
            fields[customer_filter.param] = serializers.CharField(
                max_length=QUERY_MAX_CHARS,
                required=False,
                help_text=f"Only customers in this {customer_filter.label.lower()}, named as in "
                "the inbox filter; an unknown value matches nobody.",
            )
        return fields


class TicketFilterSerializer(CustomerFiltersMixin, serializers.Serializer):
    """Query parameters of the ticket list; all optional."""

    status = serializers.ChoiceField(
        [*Ticket.Status.values, STATUS_ACTIVE, STATUS_ANY],
        required=False,
        help_text=f"A status, '{STATUS_ACTIVE}' (not solved or closed) or '{STATUS_ANY}'.",
    )
    team = serializers.IntegerField(min_value=1, max_value=ID_MAX, required=False)
    assignee = serializers.CharField(
        required=False, help_text=f"A user id, '{ASSIGNEE_MINE}' or '{ASSIGNEE_UNASSIGNED}'."
    )
    tag = serializers.CharField(max_length=Tag._meta.get_field("name").max_length, required=False)
    channel = serializers.ChoiceField(Ticket.Channel.choices, required=False)
    priority = serializers.ChoiceField(Ticket.Priority.choices, required=False)
    q = serializers.CharField(max_length=QUERY_MAX_CHARS, required=False)
    customer = serializers.IntegerField(min_value=1, max_value=ID_MAX, required=False)

    def validate_tag(self, value: str) -> str:
        return value.strip().lower()

    def validate_assignee(self, value: str) -> str | int:
        if value in (ASSIGNEE_MINE, ASSIGNEE_UNASSIGNED):
            return value
        return serializers.IntegerField(min_value=1, max_value=ID_MAX).run_validation(value)


class _TicketFieldsSerializer(serializers.Serializer):
    priority = serializers.ChoiceField(Ticket.Priority.choices, required=False)
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=agents(), required=False, allow_null=True
    )
    tags = TagNamesField(required=False)


class TicketCreateSerializer(_TicketFieldsSerializer):
    customer_email = serializers.EmailField(max_length=254)
    customer_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    subject = serializers.CharField(max_length=255)
    body_text = serializers.CharField(max_length=BODY_MAX_CHARS)
    channel = serializers.ChoiceField(Ticket.Channel.choices, default=Ticket.Channel.API)


class TicketUpdateSerializer(_TicketFieldsSerializer):
    status = serializers.ChoiceField(Ticket.Status.choices, required=False)
    subject = serializers.CharField(max_length=255, required=False)


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "file"]


class MessageSerializer(serializers.ModelSerializer):
    author = UserRefSerializer(read_only=True, allow_null=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "kind",
            "author",
            "body_text",
            "body_html",
            "delivery_status",
            "created_at",
            "attachments",
        ]
        read_only_fields = fields


class NoteSerializer(serializers.Serializer):
    body_text = serializers.CharField(max_length=BODY_MAX_CHARS)


class ReplySerializer(NoteSerializer):
    status = serializers.ChoiceField(
        Ticket.Status.choices,
        required=False,
        help_text="Set the ticket's status with the reply (a new ticket becomes open anyway).",
    )


class BadgeSerializer(serializers.Serializer):
    group = serializers.CharField(help_text="What the badge belongs to, e.g. a segmentation.")
    group_slug = serializers.CharField()
    label = serializers.CharField()
    slug = serializers.CharField()
    colour = serializers.CharField()


class CustomerListSerializer(serializers.ListSerializer):
    """Asks the badge providers once for every customer of the page."""

    def to_representation(self, data) -> list:
        customers = list(data.all() if hasattr(data, "all") else data)
        self.context["badges"] = badges_for_customers(customer.pk for customer in customers)
        return super().to_representation(customers)


def storable_json(value) -> None:
    """Refuse what jsonb cannot store, as CharField does for plain text, so the caller gets a
    400 instead of a database error."""
    if reason := unstorable_reason(value):
        raise serializers.ValidationError(reason)


class CustomerSerializer(serializers.ModelSerializer):
    tags = TagNamesField(required=False)
    custom_fields = serializers.DictField(required=False, validators=[storable_json])
    badges = serializers.SerializerMethodField(
        help_text="The customer's current segments, one badge per segmentation."
    )

    @extend_schema_field(BadgeSerializer(many=True))
    def get_badges(self, customer: Customer) -> list:
        badges = self.context.get("badges")
        if badges is None or customer.pk not in badges:
            badges = badges_for_customers([customer.pk])
        return BadgeSerializer(badges[customer.pk], many=True).data

    class Meta:
        model = Customer
        fields = [
            "id",
            "email",
            "name",
            "phone",
            "organisation",
            "country",
            "city",
            "language",
            "timezone",
            "age",
            "gender",
            "plan",
            "signup_date",
            "external_id",
            "custom_fields",
            "tags",
            "badges",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"age": {"max_value": 150}}
        list_serializer_class = CustomerListSerializer


class CustomerFilterSerializer(CustomerFiltersMixin, serializers.Serializer):
    email = serializers.CharField(max_length=254, required=False)
    q = serializers.CharField(
        max_length=QUERY_MAX_CHARS, required=False, help_text="Part of the name or email."
    )


class PurchaseListSerializer(serializers.ListSerializer):
    """Checks the whole batch with one query per kind of reference; errors keyed by item index."""

    def validate(self, attrs: list[dict]) -> list[dict]:
        customer_ids = {row["customer_id"] for row in attrs}
        order_ids = [row["order_id"] for row in attrs]
        known_customers = set(
            Customer.objects.filter(pk__in=customer_ids).values_list("pk", flat=True)
        )
        taken = set(
            Purchase.objects.filter(order_id__in=order_ids).values_list("order_id", flat=True)
        )
        errors, seen = {}, set()
        for index, row in enumerate(attrs):
            row_errors = {}
            if row["customer_id"] not in known_customers:
                row_errors["customer"] = ["No customer has this id."]
            if row["order_id"] in taken:
                row_errors["order_id"] = ["A purchase with this order id already exists."]
            elif row["order_id"] in seen:
                row_errors["order_id"] = ["This order id appears twice in the request."]
            seen.add(row["order_id"])
            if row_errors:
                errors[index] = row_errors
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class PurchaseSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", min_value=1, max_value=ID_MAX)

    class Meta:
        model = Purchase
        fields = [
            "id",
            "order_id",
            "customer",
            "ordered_at",
            "amount",
            "currency",
            "product",
            "category",
            "quantity",
        ]
        extra_kwargs = {
            # Uniqueness is checked for the whole batch at once by PurchaseListSerializer.
            "order_id": {"validators": []},
            # SQLite enforces no integer range; this is PostgreSQL's for the column.
            "quantity": {"max_value": 2**31 - 1},
        }
        list_serializer_class = PurchaseListSerializer


class PurchaseFilterSerializer(serializers.Serializer):
    customer = serializers.IntegerField(min_value=1, max_value=ID_MAX, required=False)
