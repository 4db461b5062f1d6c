from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

FEATURES_SHAPE = 'A list of feature column names, e.g. ["orders_90d", "tickets_90d"], or [].'


class Segmentation(models.Model):
    """One way of grouping customers; each customer has at most one segment in each."""

    class Kind(models.TextChoices):
        CLUSTERED = "clustered"
        RFM = "rfm", "RFM"
        RULE = "rule", "Rule-based"

    class Schedule(models.TextChoices):
        NIGHTLY = "nightly"
        MANUAL = "manual", "Only when started"

    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    description = models.TextField(blank=True)
    features = models.JSONField(
        default=list, blank=True, help_text="Feature column names; empty means the default set."
    )
    k_min = models.PositiveSmallIntegerField(default=3)
    k_max = models.PositiveSmallIntegerField(default=8)
    min_segment_share = models.FloatField(default=0.05)
    schedule = models.CharField(max_length=10, choices=Schedule.choices, default=Schedule.NIGHTLY)
    enabled = models.BooleanField(default=True)
    current_run = models.ForeignKey(
        "SegmentRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(k_min__gte=2) & models.Q(k_max__gte=models.F("k_min")),
                name="segmentation_k_bounds",
            ),
            models.CheckConstraint(
                condition=models.Q(min_segment_share__gte=0) & models.Q(min_segment_share__lt=1),
                name="segmentation_min_share_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The admin's features box takes any storable JSON; a run reads it as column names."""
        names = self.features if isinstance(self.features, list) else None
        if names is None or not all(isinstance(name, str) and name for name in names):
            raise ValidationError({"features": FEATURES_SHAPE})


class SegmentRun(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    FINISHED_STATES = (State.SUCCEEDED, State.FAILED)

    segmentation = models.ForeignKey(Segmentation, on_delete=models.CASCADE, related_name="runs")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done")
    stage = models.CharField(max_length=50, blank=True)
    error = models.TextField(blank=True)
    as_of = models.DateField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written with every progress update: the sweeper fails a running run whose worker went
    # silent (segments.services.fail_stalled_runs).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    customer_count = models.PositiveIntegerField(default=0)
    k = models.PositiveSmallIntegerField(null=True, blank=True)
    quality = models.JSONField(default=dict, blank=True)
    explanation = models.JSONField(default=dict, blank=True)
    fidelity = models.FloatField(null=True, blank=True)
    # {"columns": [...], "centroids": {segment_id: [...]}} in the model's unscaled feature space,
    # so the next run can match its clusters to these segments.
    centroids = models.JSONField(default=dict, blank=True)
    drift = models.JSONField(default=dict, blank=True)
    stage_seconds = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["segmentation", "state", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.segmentation} run #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED_STATES


class Segment(models.Model):
    """A group with a stable identity across runs; its profile is written by team leads."""

    class Match(models.TextChoices):
        ALL = "all", "All criteria"
        ANY = "any", "Any criterion"

    class Channel(models.TextChoices):
        NONE = "", "No preference"
        EMAIL = "email"
        WEB = "web"
        CHAT = "chat"
        PHONE = "phone"
        SOCIAL = "social"

    segmentation = models.ForeignKey(
        Segmentation, on_delete=models.CASCADE, related_name="segments"
    )
    slug = models.SlugField()
    position = models.PositiveSmallIntegerField(default=0)
    # Written by each run; the lead's ``name`` and ``description`` win when set.
    proposed_name = models.CharField(max_length=100, blank=True)
    proposed_description = models.TextField(blank=True)
    proposed_traits = models.JSONField(default=list, blank=True)
    name = models.CharField(max_length=100, blank=True)
    colour = models.CharField(max_length=7, default="#64748b")
    description = models.TextField(blank=True)
    key_traits = models.JSONField(default=list, blank=True)
    needs = models.TextField(blank=True, help_text="Needs and pain points")
    support_preference = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    value_to_business = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    team = models.ForeignKey(
        "tickets.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="segments"
    )
    criteria = models.JSONField(default=list, blank=True)
    match = models.CharField(max_length=3, choices=Match.choices, default=Match.ALL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["segmentation", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["segmentation", "slug"], name="segment_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.name or self.proposed_name or self.slug

    @property
    def summary(self) -> str:
        return self.description or self.proposed_description

    @property
    def traits(self) -> list[str]:
        return self.key_traits or self.proposed_traits


class SegmentProfileRevision(models.Model):
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="revisions")
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changes = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.segment} revision #{self.pk}"


class Membership(models.Model):
    """A customer's segment in one run; only the segmentation's current run counts.

    Rows are written only by the run writer (COPY on PostgreSQL) from ids it has just read, so
    the foreign keys carry no database constraint: per-row constraint triggers would multiply
    the cost of writing a million rows. Deleting a customer, segment or run still cascades
    through the ORM.
    """

    run = models.ForeignKey(
        SegmentRun,
        on_delete=models.CASCADE,
        related_name="memberships",
        db_constraint=False,
        db_index=False,
    )
    segment = models.ForeignKey(
        Segment,
        on_delete=models.CASCADE,
        related_name="memberships",
        db_constraint=False,
        db_index=False,
    )
    customer = models.ForeignKey(
        "tickets.Customer",
        on_delete=models.CASCADE,
        related_name="segment_memberships",
        db_constraint=False,
        db_index=False,
    )
    r_score = models.PositiveSmallIntegerField(null=True, blank=True)
    f_score = models.PositiveSmallIntegerField(null=True, blank=True)
    m_score = models.PositiveSmallIntegerField(null=True, blank=True)
    recency_days = models.IntegerField(null=True, blank=True)
    frequency = models.IntegerField(null=True, blank=True)
    monetary = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "customer"], name="membership_one_per_run"),
        ]
        indexes = [models.Index(fields=["run", "segment"], name="membership_run_segment")]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.segment_id}"


class Campaign(models.Model):
    """A lead's email to the members of one segment, sent once to each consenting member."""

    class State(models.TextChoices):
        DRAFT = "draft"
        SENDING = "sending"
        SENT = "sent"

    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="campaigns")
    subject = models.CharField(max_length=200)
    body = models.TextField(help_text="Plain text with {{ placeholders }}")
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject


class CampaignRecipient(models.Model):
    """One customer of a campaign; the unique key is what makes a retry send nothing twice."""

    class State(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        SKIPPED = "skipped", "Skipped (unsubscribed or consent withdrawn)"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey(
        "tickets.Customer", on_delete=models.CASCADE, related_name="campaign_deliveries"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"], name="campaign_recipient_once"
            ),
        ]
        indexes = [models.Index(fields=["campaign", "state"], name="campaign_recipient_state")]

    def __str__(self) -> str:
        return f"{self.customer_id} in campaign {self.campaign_id}"
