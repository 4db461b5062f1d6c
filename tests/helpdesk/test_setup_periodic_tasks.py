from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from helpdesk.celery import app as celery_app
from helpdesk.management.commands.setup_periodic_tasks import (
    SCHEDULES,
    Cron,
    Every,
    declare_schedules,
)


def test_command_declares_the_sweeper_every_minute(db):
    call_command("setup_periodic_tasks")

    sweep = PeriodicTask.objects.get(task="tickets.tasks.sweep_unfinished_work")
    assert sweep.enabled
    assert (sweep.interval.every, sweep.interval.period) == (1, IntervalSchedule.MINUTES)
    assert sweep.crontab is None


def test_running_twice_changes_nothing(db):
    call_command("setup_periodic_tasks")
    call_command("setup_periodic_tasks")

    assert PeriodicTask.objects.count() == len(SCHEDULES)
    assert IntervalSchedule.objects.filter(every=1, period=IntervalSchedule.MINUTES).count() == 1


def test_a_changed_schedule_updates_the_row_in_place(db):
    # given
    declare_schedules({"nightly": ("segments.tasks.run", Every(minutes=5))})
    row_id = PeriodicTask.objects.get(name="nightly").pk

    # when
    declare_schedules({"nightly": ("segments.tasks.run", Cron(minute="0", hour="2"))})

    # then
    nightly = PeriodicTask.objects.get(name="nightly")
    assert nightly.pk == row_id
    assert nightly.interval is None
    assert (nightly.crontab.minute, nightly.crontab.hour) == ("0", "2")


def test_a_schedule_removed_from_the_list_is_deleted_but_hand_made_ones_stay(db):
    # given
    declare_schedules({"old": ("tickets.tasks.old", Every(minutes=1))})
    hand_made = PeriodicTask.objects.create(
        name="made in the admin",
        task="tickets.tasks.sweep_unfinished_work",
        crontab=CrontabSchedule.objects.create(minute="30"),
    )

    # when
    declare_schedules({"new": ("tickets.tasks.new", Every(minutes=1))})

    # then
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert names == {"new", hand_made.name}


def test_every_declared_schedule_names_a_registered_celery_task():
    celery_app.loader.import_default_modules()

    unknown = {name: task for name, (task, _) in SCHEDULES.items() if task not in celery_app.tasks}

    assert unknown == {}


def test_command_declares_the_stalled_segment_run_sweeper_every_minute(db):
    call_command("setup_periodic_tasks")

    sweep = PeriodicTask.objects.get(task="segments.tasks.fail_stalled_segment_runs")
    assert sweep.enabled
    assert (sweep.interval.every, sweep.interval.period) == (1, IntervalSchedule.MINUTES)
