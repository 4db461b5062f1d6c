"""SLA policies: write them, give tickets due times, flag and report breaches.

Due times are counted from the ticket's creation and are not paused while a ticket waits on the
customer: the targets are promises about our own speed from the moment of asking, and a clock
that stops is the first thing customers distrust. A priority change or a new policy recomputes
them from the creation time.
"""

import logging
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from helpdesk.audit import record_change
from helpdesk.models import User
from tickets.models import BusinessCalendar, SLAPolicy, SLATarget, Ticket
from tickets.sla import OpeningHours, add_working_time

logger = logging.getLogger(__name__)


def opening_hours(calendar: BusinessCalendar | None) -> OpeningHours | None:
    if calendar is None:
        return None
    return OpeningHours(
        timezone=ZoneInfo(calendar.timezone),
        weekdays=frozenset(calendar.weekdays),
        opens_at=calendar.opens_at,
        closes_at=calendar.closes_at,
        holidays=frozenset(date.fromisoformat(day) for day in calendar.holidays),
    )


def _clean_calendar_values(
    *, timezone_name: str, weekdays: list[int], opens_at: time, closes_at: time, holidays: list
) -> list[str]:
    errors: dict[str, str] = {}
    try:
        ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = f"Unknown time zone “{timezone_name}”."
    if not weekdays or any(day not in range(1, 8) for day in weekdays):
        errors["weekdays"] = "Choose at least one weekday (1 = Monday … 7 = Sunday)."
    if closes_at <= opens_at:
        errors["closes_at"] = "Closing time must be after opening time on the same day."
    try:
        days = sorted({date.fromisoformat(str(day)) for day in holidays})
    except ValueError as error:
        errors["holidays"] = f"Holidays must be dates like 2025-12-25 ({error})."
        days = []
    if errors:
        raise ValidationError(errors)
    return [day.isoformat() for day in days]


@transaction.atomic
def save_business_calendar(
    *,
    calendar: BusinessCalendar | None,
    name: str,
    timezone_name: str,
    weekdays: list[int],
    opens_at: time,
    closes_at: time,
    holidays: list,
    actor: User,
) -> BusinessCalendar:
    """Create (``calendar=None``) or update a calendar; bad values raise ValidationError."""
    holidays = _clean_calendar_values(
        timezone_name=timezone_name,
        weekdays=weekdays,
        opens_at=opens_at,
        closes_at=closes_at,
        holidays=holidays,
    )
    calendar = calendar or BusinessCalendar()
    calendar.name = name
    calendar.timezone = timezone_name
    calendar.weekdays = sorted(set(weekdays))
    calendar.opens_at = opens_at
    calendar.closes_at = closes_at
    calendar.holidays = holidays
    calendar.full_clean()
    calendar.save()
    record_change(
        target=calendar,
        action="business_calendar_saved",
        actor=actor,
        changes={"name": name, "timezone": timezone_name, "weekdays": calendar.weekdays},
    )
    return calendar


TargetMinutes = Mapping[str, tuple[int | None, int | None]]


@transaction.atomic
def save_sla_policy(
    *,
    policy: SLAPolicy | None,
    name: str,
    description: str,
    calendar: BusinessCalendar | None,
    is_default: bool,
    targets: TargetMinutes,
    actor: User,
) -> SLAPolicy:
    """Create or update a policy with ``targets``: priority → (first response, resolution)
    minutes, either may be None for "no target"."""
    unknown = set(targets) - set(Ticket.Priority.values)
    if unknown:
        raise ValidationError(f"Unknown priorities: {', '.join(sorted(unknown))}.")
    policy = policy or SLAPolicy()
    policy.name = name
    policy.description = description
    policy.calendar = calendar
    if is_default:
        SLAPolicy.objects.filter(is_default=True).exclude(pk=policy.pk).update(is_default=False)
    policy.is_default = is_default
    policy.full_clean(validate_constraints=False)
    policy.save()
    SLATarget.objects.filter(policy=policy).delete()
    SLATarget.objects.bulk_create(
        SLATarget(
            policy=policy,
            priority=priority,
            first_response_minutes=first_response,
            resolution_minutes=resolution,
        )
        for priority, (first_response, resolution) in targets.items()
        if first_response or resolution
    )
    record_change(
        target=policy,
        action="sla_policy_saved",
        actor=actor,
        changes={"name": name, "targets": {p: list(t) for p, t in targets.items()}},
    )
    return policy


def due_times(
    *, policy: SLAPolicy, priority: str, start: datetime
) -> tuple[datetime | None, datetime | None]:
    """(first response due, resolution due) for a ticket of ``priority`` opened at ``start``."""
    target = next((t for t in policy.targets.all() if t.priority == priority), None)
    if target is None:
        return None, None
    hours = opening_hours(policy.calendar)

    def due(minutes: int | None) -> datetime | None:
        return add_working_time(start, minutes, hours) if minutes else None

    return due(target.first_response_minutes), due(target.resolution_minutes)


@transaction.atomic
def apply_sla_policy(*, ticket: Ticket, policy: SLAPolicy, cause: str) -> Ticket:
    """Give the ticket the policy's due times for its priority, counted from its creation.

    Earlier breach flags are cleared: the new targets are judged afresh by the breach sweeper.
    """
    policy = (
        SLAPolicy.objects.select_related("calendar").prefetch_related("targets").get(pk=policy.pk)
    )
    first_response_due, resolution_due = due_times(
        policy=policy, priority=ticket.priority, start=ticket.created_at
    )
    ticket.sla_policy = policy
    ticket.first_response_due_at = first_response_due
    ticket.resolution_due_at = resolution_due
    ticket.first_response_breached_at = None
    ticket.resolution_breached_at = None
    ticket.save(
        update_fields=[
            "sla_policy",
            "first_response_due_at",
            "resolution_due_at",
            "first_response_breached_at",
            "resolution_breached_at",
        ]
    )
    record_change(
        target=ticket,
        action="sla_policy_applied",
        changes={
            "sla_policy": policy.name,
            "first_response_due_at": _iso(first_response_due),
            "resolution_due_at": _iso(resolution_due),
        },
        cause=cause,
    )
    return ticket


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _first_response_breaches(now: datetime) -> QuerySet:
    late_reply = Q(first_response_at__gt=F("first_response_due_at"))
    still_waiting = Q(
        first_response_at__isnull=True,
        first_response_due_at__lt=now,
        status__in=Ticket.ACTIVE_STATUSES,
    )
    return Ticket.objects.filter(
        late_reply | still_waiting,
        first_response_breached_at__isnull=True,
        first_response_due_at__isnull=False,
    )


def _resolution_breaches(now: datetime) -> QuerySet:
    solved_late = Q(solved_at__gt=F("resolution_due_at"))
    still_open = Q(resolution_due_at__lt=now, status__in=Ticket.ACTIVE_STATUSES)
    return Ticket.objects.filter(
        solved_late | still_open,
        resolution_breached_at__isnull=True,
        resolution_due_at__isnull=False,
    )


@transaction.atomic
def flag_sla_breaches(*, now: datetime | None = None) -> dict[str, list[int]]:
    """Flag every missed target not flagged yet and email each team lead about theirs, once.

    A flag's time is the due time that was missed. The emails go out inside the transaction,
    so a failed send leaves the breaches unflagged and the next run tries again.
    """
    now = now or timezone.now()
    first_response = _first_response_breaches(now).select_for_update(skip_locked=True)
    resolution = _resolution_breaches(now).select_for_update(skip_locked=True)
    flagged = {
        "first_response": list(first_response.values_list("pk", flat=True)),
        "resolution": list(resolution.values_list("pk", flat=True)),
    }
    Ticket.objects.filter(pk__in=flagged["first_response"]).update(
        first_response_breached_at=F("first_response_due_at")
    )
    Ticket.objects.filter(pk__in=flagged["resolution"]).update(
        resolution_breached_at=F("resolution_due_at")
    )
    _notify_team_leads(flagged)
    return flagged


def _notify_team_leads(flagged: dict[str, list[int]]) -> None:
    ids = set(flagged["first_response"]) | set(flagged["resolution"])
    tickets = (
        Ticket.objects.filter(pk__in=ids, team__lead__isnull=False)
        .select_related("team__lead", "customer")
        .order_by("pk")
    )
    by_lead: dict[User, list[tuple[Ticket, list[str]]]] = defaultdict(list)
    for ticket in tickets:
        missed = [kind for kind in ("first_response", "resolution") if ticket.pk in flagged[kind]]
        by_lead[ticket.team.lead].append((ticket, missed))
    messages = [
        _breach_email(lead=lead, breaches=breaches)
        for lead, breaches in by_lead.items()
        if lead.email
    ]
    if messages:
        get_connection().send_messages(messages)
    logger.info("SLA breaches flagged: %d tickets, %d emails", len(ids), len(messages))


def _breach_email(*, lead: User, breaches: list[tuple[Ticket, list[str]]]) -> EmailMessage:
    lines = [
        {
            "ticket": ticket,
            "missed": missed,
            "url": settings.SITE_URL + reverse("tickets:ticket", args=[ticket.pk]),
        }
        for ticket, missed in breaches
    ]
    body = render_to_string("tickets/sla/breach_email.txt", {"lead": lead, "lines": lines})
    return EmailMessage(
        subject=f"SLA breached on {len(lines)} ticket{'s' if len(lines) != 1 else ''}",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[lead.email],
    )
