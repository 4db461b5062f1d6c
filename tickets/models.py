import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class Tag(models.Model):
    """One vocabulary; tickets and customers keep separate tag sets from it."""

    name = models.CharField(max_length=50, unique=True)
    colour = models.CharField(max_length=7, default="#64748b")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )
    private = models.BooleanField(
        default=False,
        help_text="Only members of this team, team leads and admins see its tickets.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Organisation(models.Model):
    name = models.CharField(max_length=200)
    industry = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True, help_text="Number of employees")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrganisationDomain(models.Model):
    """An email domain whose senders belong to the organisation."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)

    def __str__(self) -> str:
        return self.domain


class CustomerQuerySet(models.QuerySet):
    def with_address(self, email: str) -> "CustomerQuerySet":
        """Customers whose address is ``email`` in any case.

        Compared as LOWER() on both sides, the expression of the unique index: ``iexact``
        compiles to UPPER() on PostgreSQL, which no index serves (430 ms at 200,000 customers).
        """
        return self.alias(address=Lower("email")).filter(address=Lower(models.Value(email)))


class Customer(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "female"
        MALE = "male"
        OTHER = "other"
        UNKNOWN = "", "Unknown"

    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers"
    )
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    city = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=10, blank=True)
    timezone = models.CharField(max_length=64, blank=True)
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    gender = models.CharField(max_length=10, choices=Gender.choices, blank=True)
    plan = models.CharField(max_length=50, blank=True)
    signup_date = models.DateField(null=True, blank=True)
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField(Tag, related_name="customers", blank=True)
    # Outreach emails go only to customers who agreed and have not unsubscribed since.
    marketing_consent = models.BooleanField(default=False)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="customer_email_ci_unique"),
        ]
        indexes = [models.Index(fields=["name"])]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def first_name(self) -> str:
        return (self.name or self.email).split()[0]


class Purchase(models.Model):
    order_id = models.CharField(max_length=100, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="purchases")
    ordered_at = models.DateTimeField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    product = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=100, blank=True)
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["customer", "-ordered_at"])]
        ordering = ["-ordered_at"]

    def __str__(self) -> str:
        return self.order_id


def _new_inbound_token() -> str:
    return secrets.token_urlsafe(32)


class Mailbox(models.Model):
    """A support address. The IMAP password is never stored: ``imap_password_env`` names the
    environment variable that holds it."""

    slug = models.SlugField(unique=True)
    address = models.EmailField(unique=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="mailboxes"
    )
    active = models.BooleanField(default=True)
    imap_host = models.CharField(max_length=253, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_use_tls = models.BooleanField(default=True)
    imap_user = models.CharField(max_length=254, blank=True)
    imap_password_env = models.CharField(max_length=100, blank=True)
    imap_folder = models.CharField(max_length=100, default="INBOX")
    inbound_token = models.CharField(max_length=64, default=_new_inbound_token)

    class Meta:
        verbose_name_plural = "mailboxes"
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.address


# The next SLA target of a ticket: the first response until there is one, then the resolution.
# The inbox sorts on this expression and an index on the same expression serves the sort.
SLA_NEXT_DUE = models.Case(
    models.When(first_response_at__isnull=True, then=models.F("first_response_due_at")),
    default=models.F("resolution_due_at"),
)


class TicketStatus(models.TextChoices):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold", "On hold"
    SOLVED = "solved"
    CLOSED = "closed"


class TicketPriority(models.TextChoices):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


ACTIVE_TICKET_STATUSES = (
    TicketStatus.NEW,
    TicketStatus.OPEN,
    TicketStatus.PENDING,
    TicketStatus.ON_HOLD,
)

# Urgent first: the inbox's priority sort, served by an index on the same expression.
PRIORITY_RANK = models.Case(
    models.When(priority=TicketPriority.URGENT, then=models.Value(0)),
    models.When(priority=TicketPriority.HIGH, then=models.Value(1)),
    models.When(priority=TicketPriority.NORMAL, then=models.Value(2)),
    default=models.Value(3),
    output_field=models.IntegerField(),
)


class Ticket(models.Model):
    # Declared at module level so that Meta's indexes can name them.
    Status = TicketStatus
    Priority = TicketPriority

    class Channel(models.TextChoices):
        EMAIL = "email"
        WEB = "web"
        CHAT = "chat"
        PHONE = "phone"
        SOCIAL = "social"
        API = "api", "API"

    ACTIVE_STATUSES = ACTIVE_TICKET_STATUSES

    subject = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    tags = models.ManyToManyField(Tag, related_name="tickets", blank=True)
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    # Subject plus every message's text, kept by the services for full-text search.
    search_document = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    routed_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty until routing has run; the sweeper uses it."
    )
    sla_policy = models.ForeignKey(
        "SLAPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    # Set once by the breach sweeper; a set value is the flag, and its time is when it was seen.
    first_response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-updated_at", "-id"], name="ticket_status_updated"),
            models.Index(fields=["assignee", "status", "-updated_at"], name="ticket_assignee"),
            models.Index(
                fields=["assignee", "status", "-created_at", "-id"], name="ticket_assignee_created"
            ),
            models.Index(
                PRIORITY_RANK,
                models.F("updated_at").desc(),
                models.F("id").desc(),
                condition=models.Q(status__in=ACTIVE_TICKET_STATUSES),
                name="ticket_active_priority",
            ),
            models.Index(fields=["team", "status", "-updated_at"], name="ticket_team"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer"),
            models.Index(fields=["-updated_at", "-id"], name="ticket_updated"),
            models.Index(SLA_NEXT_DUE, "id", name="ticket_sla_next_due"),
            # The few tickets routing has not reached yet: its batches and the sweeper.
            models.Index(
                fields=["created_at", "id"],
                condition=models.Q(routed_at__isnull=True),
                name="ticket_unrouted",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def number(self) -> int:
        """The ticket number customers see (``[#1234]``) is its primary key."""
        return self.pk

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class Message(models.Model):
    class Kind(models.TextChoices):
        INBOUND = "inbound"
        OUTBOUND = "outbound"
        NOTE = "note", "Internal note"

    class Delivery(models.TextChoices):
        NOT_APPLICABLE = "", "—"
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True, help_text="Sanitised HTML, safe to render.")
    headers = models.JSONField(default=dict, blank=True)
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    message_id = models.CharField(max_length=998, null=True, blank=True)
    delivery_status = models.CharField(
        max_length=10, choices=Delivery.choices, blank=True, default=Delivery.NOT_APPLICABLE
    )
    delivery_error = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"]),
            models.Index(fields=["message_id"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "message_id"], name="message_unique_message_id_per_mailbox"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on #{self.ticket_id}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    size = models.PositiveIntegerField()

    def __str__(self) -> str:
        return self.filename


class InboundEmail(models.Model):
    """The raw bytes of every message received, stored before anything else happens."""

    class State(models.TextChoices):
        RECEIVED = "received"
        PROCESSED = "processed"
        IGNORED = "ignored", "Ignored (auto-reply or bounce)"
        FAILED = "failed"

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="inbound_emails")
    message_id_header = models.CharField(
        max_length=998, help_text="Message-ID, or one derived from a hash of the raw bytes."
    )
    raw = models.BinaryField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.RECEIVED)
    error = models.TextField(blank=True)
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_email"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["state", "received_at"], name="inbound_email_state")]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "message_id_header"], name="inbound_email_unique_message_id"
            ),
        ]

    def __str__(self) -> str:
        return self.message_id_header


class SavedView(models.Model):
    """An agent's named inbox filter, stored as the query string of the inbox URL."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=1000)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ImportJob(models.Model):
    """A CSV import started from the upload page or the command, with its progress."""

    class Kind(models.TextChoices):
        CUSTOMERS = "customers"
        PURCHASES = "purchases"
        TICKETS = "tickets"

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    kind = models.CharField(max_length=20)
    file = models.FileField(upload_to="imports/%Y/%m/")
    skip_invalid = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    invalid_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why a job failed when the rows are not the reason (its worker stopped responding).
    failure_reason = models.TextField(blank=True)
    # The failed job whose stored file this job imports again ("Import this file again").
    retry_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retry"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The running count and the time of the last progress are in the cache (services/imports.py).
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} import #{self.pk}"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.state == self.State.SUCCEEDED else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


class RoutingRule(models.Model):
    """A lead's routing rule, stored as data (tickets/routing.py reads it; segments by slug)."""

    class Match(models.TextChoices):
        ALL = "all", "All conditions"
        ANY = "any", "Any condition"

    class Event(models.TextChoices):
        TICKET_CREATED = "ticket_created", "Ticket created"
        CUSTOMER_REPLIED = "customer_replied", "Customer replied"
        SEGMENT_CHANGED = "segment_changed", "Customer's segment changed"

    name = models.CharField(max_length=100, unique=True)
    order = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    match = models.CharField(max_length=3, choices=Match.choices, default=Match.ALL)
    events = models.JSONField(default=list, help_text="Event names the rule listens to")
    always_run = models.BooleanField(
        default=False,
        help_text="Run on every listened event, not only when a field the rule looks at changed.",
    )
    conditions = models.JSONField(default=list, blank=True, help_text="[{field, operator, value}]")
    actions = models.JSONField(default=list, help_text="[{action, value}]")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        indexes = [models.Index(fields=["active", "order"], name="routing_rule_active_order")]

    def __str__(self) -> str:
        return self.name


class RuleFiring(models.Model):
    """One rule firing on one ticket: what event caused it and what the rule did."""

    rule = models.ForeignKey(
        RoutingRule, null=True, on_delete=models.SET_NULL, related_name="firings"
    )
    rule_name = models.CharField(max_length=100)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="rule_firings")
    event = models.CharField(max_length=20, choices=RoutingRule.Event.choices)
    cause = models.CharField(max_length=200, blank=True)
    actions = models.JSONField(default=list)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="rule_firing_ticket")]

    def __str__(self) -> str:
        return f"{self.rule_name} on #{self.ticket_id}"


class RoundRobinCursor(models.Model):
    """The agent a team's round-robin assigned last; its row is locked while picking the next."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, primary_key=True)
    last_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"round-robin of {self.team}"


class BusinessCalendar(models.Model):
    """Opening hours in a time zone: the same hours on each open weekday, minus holidays."""

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    # ISO weekday numbers, Monday = 1.
    weekdays = models.JSONField(default=list)
    opens_at = models.TimeField()
    closes_at = models.TimeField()
    # ISO dates ("2025-12-25") on which the calendar is closed all day.
    holidays = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SLAPolicy(models.Model):
    """Response targets per priority, counted in a calendar's opening hours or around the clock."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
        help_text="Empty: targets run 24/7.",
    )
    is_default = models.BooleanField(
        default=False, help_text="Applied to new tickets no routing rule gave a policy."
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="sla_policy_one_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SLATarget(models.Model):
    policy = models.ForeignKey(SLAPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(max_length=10, choices=Ticket.Priority.choices)
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["policy", "priority"], name="sla_target_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.policy} / {self.priority}"


class CannedReply(models.Model):
    """A reply template; ``owner`` empty means shared with every agent."""

    title = models.CharField(max_length=200)
    body = models.TextField()
    folder = models.CharField(max_length=100, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_replies",
    )
    # "segmentation/segment" slugs; data only, so tickets never imports segments.
    segment_slugs = models.JSONField(default=list, blank=True)
    usage_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["folder", "title"]
        verbose_name_plural = "canned replies"
        indexes = [models.Index(fields=["owner", "folder", "title"], name="canned_owner_folder")]

    def __str__(self) -> str:
        return self.title


class Article(models.Model):
    """A knowledge-base article written in Markdown; only published ones are public."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    body = models.TextField(help_text="Markdown")
    category = models.CharField(max_length=100, blank=True)
    published = models.BooleanField(default=False)
    segment_slugs = models.JSONField(default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "title"]
        indexes = [models.Index(fields=["published", "category", "title"], name="article_listing")]

    def __str__(self) -> str:
        return self.title


class ChannelTeam(models.Model):
    """The team that gets a channel's tickets when no routing rule or mailbox chose one."""

    channel = models.CharField(max_length=10, choices=Ticket.Channel.choices, unique=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="channel_defaults")

    class Meta:
        ordering = ["channel"]

    def __str__(self) -> str:
        return f"{self.channel} → {self.team}"
