"""The one place that declares every periodic Celery job (django-celery-beat schedules).

Each app adds one line to SCHEDULES. Running the command again updates the rows in place, and a
schedule removed from the list is deleted, so the database always matches this file.
"""

from dataclasses import dataclass

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

DECLARED_HERE = "Declared in helpdesk/management/commands/setup_periodic_tasks.py."


@dataclass(frozen=True)
class Every:
    """Run every ``minutes`` minutes."""

    minutes: int

    def schedule_fields(self) -> dict:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=self.minutes, period=IntervalSchedule.MINUTES
        )
        return {"interval": interval, "crontab": None}


@dataclass(frozen=True)
class Cron:
    """Run at a crontab time (UTC), for example ``Cron(minute="0", hour="2")`` at 02:00."""

    minute: str = "*"
    hour: str = "*"
    day_of_week: str = "*"

    def schedule_fields(self) -> dict:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=self.minute,
            hour=self.hour,
            day_of_week=self.day_of_week,
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        return {"interval": None, "crontab": crontab}


# name -> (task, schedule)
SCHEDULES: dict[str, tuple[str, Every | Cron]] = {
    "sweep unfinished work": ("tickets.tasks.sweep_unfinished_work", Every(minutes=1)),
    "poll mailboxes": ("tickets.tasks.poll_mailboxes", Every(minutes=1)),
    "flag SLA breaches": ("tickets.tasks.flag_sla_breaches", Every(minutes=1)),
    "segment customers nightly": (
        "segments.tasks.start_scheduled_segment_runs",
        Cron(minute="30", hour="2"),
    ),
    "survey solved tickets": ("surveys.tasks.invite_solved_tickets", Every(minutes=5)),
    "survey nps daily": ("surveys.tasks.invite_nps", Cron(minute="0", hour="10")),
    "resume outreach campaigns": ("segments.tasks.resume_stalled_campaigns", Every(minutes=5)),
    "fail stalled segment runs": ("segments.tasks.fail_stalled_segment_runs", Every(minutes=1)),
}


@transaction.atomic
def declare_schedules(schedules: dict[str, tuple[str, Every | Cron]]) -> list[str]:
    """Create or update one PeriodicTask per entry, delete the ones no longer declared."""
    for name, (task, schedule) in schedules.items():
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "enabled": True,
                "description": DECLARED_HERE,
                **schedule.schedule_fields(),
            },
        )
    PeriodicTask.objects.filter(description=DECLARED_HERE).exclude(name__in=schedules).delete()
    return sorted(schedules)


class Command(BaseCommand):
    help = "Create or update every periodic Celery job (idempotent)."

    def handle(self, *args, **options):
        for name in declare_schedules(SCHEDULES):
            task, schedule = SCHEDULES[name]
            self.stdout.write(f"{name}: {task} {schedule}")
