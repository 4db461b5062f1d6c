"""Faults injected into real Celery workers and a real Redis: workers killed with SIGKILL in the
middle of their work, and Redis stopped while mail arrives and agents reply.

Every test gets its own redis-server on a free port, so stopping it never touches the shared
Redis; its workers are subprocesses pointed at the test database and at that private broker.
Fast variant in CI: one round each. Long run: ``FAULT_ROUNDS=20 .venv/bin/pytest
tests/integration/test_faults_workers.py``.
"""

import asyncio
import contextlib
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from datetime import timedelta

import psycopg2
import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from helpdesk.celery import app as celery_app
from segments import outreach
from segments import services as segment_services
from segments import tasks as segment_tasks
from segments.models import Campaign, Membership, Segmentation, SegmentRun
from surveys import services as survey_services
from surveys.models import SurveyInvitation
from surveys.tasks import send_invitation_task
from tests.factories import (
    CustomerFactory,
    LeadFactory,
    MailboxFactory,
    PurchaseFactory,
    TicketFactory,
)
from tests.integration.conftest import BROKER_KEY_PREFIX
from tests.real_services import missing
from tests.segments.test_selectors import make_current_run
from tests.smtp import SmtpRecorder, free_port
from tests.tickets.emails import raw_email
from tickets import services as ticket_services
from tickets import tasks as ticket_tasks
from tickets.models import Message, Ticket

from .test_faults import FAULT_ROUNDS

# Short enough that a killed worker's task comes back quickly, long enough that a live worker
# finishes its task before anyone takes it again.
VISIBILITY_TIMEOUT_SECONDS = 3
WAIT_SECONDS = 60


class PrivateRedis:
    """A redis-server subprocess without persistence on its own port."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start on port {self.port}")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def private_broker(postgres, transactional_db, settings, use_broker):
    """A private Redis the web side (this process) enqueues to, as the workers expect; the
    database committed for real, with the rows the migrations create (as ``live_celery``)."""
    if not shutil.which("redis-server"):
        missing("the Redis fault tests need redis-server")
    server = PrivateRedis()
    server.start()
    transport_options = celery_app.conf.broker_transport_options
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_transport_options = {
        **transport_options,
        "global_keyprefix": BROKER_KEY_PREFIX,
    }
    use_broker(server.url)
    try:
        yield server
    finally:
        celery_app.conf.task_always_eager = True
        celery_app.conf.broker_transport_options = transport_options
        server.stop()


def worker_env(broker: PrivateRedis, *, email_url: str = "dummymail://") -> dict:
    return {
        "REDIS_URL": broker.url,
        "EMAIL_URL": email_url,
        "DJANGO_SETTINGS_MODULE": "tests.integration.fault_worker_settings",
        "FAULT_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_SECONDS),
    }


class QuitHoldingRecorder(SmtpRecorder):
    """Accepts every message; once armed, holds the next session's QUIT until released. The
    sender then has the server's 250 for its DATA, but is still inside its send call."""

    def __init__(self):
        super().__init__()
        self.armed = False
        self.holding = threading.Event()
        self.release = threading.Event()

    def arm(self) -> None:
        self.holding.clear()
        self.release.clear()
        self.armed = True

    async def handle_QUIT(self, server, session, envelope):
        if self.armed:
            self.armed = False
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return "221 Bye"

    def recipients(self) -> Counter:
        return Counter(address for envelope in self.envelopes for address in envelope.rcpt_tos)


@pytest.fixture
def holding_smtp():
    recorder = QuitHoldingRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    recorder.url = f"smtp://127.0.0.1:{controller.port}"
    try:
        yield recorder
    finally:
        recorder.release.set()
        controller.stop()


def kill_after_the_server_accepts(spawn_celery_worker, env, smtp, *, start, finished, wait_until):
    """``start()`` a sending job on a worker, SIGKILL the worker once the SMTP server accepted
    the first message, then wait until a fresh worker has ``finished(worker)`` the job."""
    smtp.arm()
    with spawn_celery_worker(env=env) as doomed:
        start()
        wait_until(smtp.holding.is_set, timeout=WAIT_SECONDS, what="the server to take a mail")
        doomed.kill()
    smtp.release.set()
    with spawn_celery_worker(env=env) as fresh:
        wait_until(
            lambda: finished(fresh),
            timeout=WAIT_SECONDS,
            what="a fresh worker to finish the redelivered job",
        )


def test_a_worker_killed_while_sending_a_survey_does_not_send_it_twice(
    private_broker, spawn_celery_worker, holding_smtp, wait_until
):
    env = worker_env(private_broker, email_url=holding_smtp.url)
    for round_ in range(FAULT_ROUNDS):
        crash_while_sending_a_survey(
            f"rated{round_}@example.com", spawn_celery_worker, env, holding_smtp, wait_until
        )
    assert max(holding_smtp.recipients().values()) == 1


def crash_while_sending_a_survey(email, spawn_celery_worker, env, smtp, wait_until) -> None:
    # given: a solved ticket's survey invitation
    solved_at = timezone.now() - timedelta(hours=1)
    ticket = TicketFactory(
        customer=CustomerFactory(email=email),
        status=Ticket.Status.SOLVED,
        solved_at=solved_at,
        created_at=solved_at,
    )
    survey_services.invite_solved_tickets()
    invitation = SurveyInvitation.objects.get(ticket=ticket)
    task_id = f"fault-survey-{invitation.pk}"

    # when: its worker dies after the SMTP server accepted the email, and the job comes back
    kill_after_the_server_accepts(
        spawn_celery_worker,
        env,
        smtp,
        start=lambda: send_invitation_task.apply_async((invitation.pk,), task_id=task_id),
        finished=lambda worker: f"[{task_id}] succeeded" in worker.log(),
        wait_until=wait_until,
    )

    # then: the customer got the survey once
    assert smtp.recipients()[email] == 1
    invitation.refresh_from_db()
    assert invitation.sent_at is not None


def test_a_worker_killed_while_sending_a_campaign_sends_nobody_two_emails(
    private_broker, spawn_celery_worker, holding_smtp, wait_until
):
    env = worker_env(private_broker, email_url=holding_smtp.url)
    for round_ in range(FAULT_ROUNDS):
        crash_while_sending_a_campaign(round_, spawn_celery_worker, env, holding_smtp, wait_until)


def crash_while_sending_a_campaign(round_, spawn_celery_worker, env, smtp, wait_until) -> None:
    # given: a campaign to 5 consenting members of a segment
    members = [
        CustomerFactory(email=f"r{round_}member{n}@example.com", marketing_consent=True)
        for n in range(5)
    ]
    slug = f"faults-{round_}"
    Segmentation.objects.create(name=f"Faults {round_}", slug=slug, kind="rule")
    _, (segment,) = make_current_run(slug, members, segment_names=("All",))
    campaign = outreach.create_campaign(
        segment=segment, subject="News", body="Hi {{ customer.first_name }}.", author=LeadFactory()
    )

    # when: its worker dies after the SMTP server accepted the first email
    kill_after_the_server_accepts(
        spawn_celery_worker,
        env,
        smtp,
        start=lambda: outreach.start_campaign(campaign=campaign),
        finished=lambda worker: Campaign.objects.filter(
            pk=campaign.pk, state=Campaign.State.SENT
        ).exists(),
        wait_until=wait_until,
    )

    # then: every member got it exactly once
    received = smtp.recipients()
    assert {m.email: received[m.email] for m in members} == {m.email: 1 for m in members}


@contextlib.contextmanager
def membership_writes_blocked(database: dict):
    """Holds a lock on the membership table from another connection, so a segment run stops
    in the middle of its write-back (before its COPY) until the block ends."""
    locker = psycopg2.connect(
        dbname=database["NAME"],
        user=database["USER"],
        password=database["PASSWORD"] or None,
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
    )
    try:
        with locker.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Membership._meta.db_table} IN SHARE MODE")
        yield
    finally:
        locker.close()


def badges_per_customer(run_id: int) -> dict[int, int]:
    rows = Membership.objects.filter(run_id=run_id).values("customer_id").annotate(n=Count("pk"))
    return {row["customer_id"]: row["n"] for row in rows}


@pytest.fixture
def rfm_run_with_a_badge_each(postgres, transactional_db) -> tuple[Segmentation, dict[int, int]]:
    """The RFM segmentation after a succeeded run over 40 customers with purchases, and the
    badge count each customer should have in any whole run."""
    customers = []
    for n in range(40):
        customer = CustomerFactory()
        PurchaseFactory.create_batch(1 + n % 5, customer=customer, amount=str(10 * (1 + n % 7)))
        customers.append(customer.pk)
    segmentation = Segmentation.objects.get(slug="rfm")
    first = segment_services.start_segment_run(segmentation=segmentation, enqueue=False)
    assert segment_services.execute_segment_run(run_id=first.pk).state == "succeeded"
    return segmentation, dict.fromkeys(customers, 1)


def run_killed_in_its_write_back(segmentation, spawn_celery_worker, env, wait_until) -> SegmentRun:
    """Start a run on a worker and SIGKILL the worker once the run writes its memberships."""
    with spawn_celery_worker(env=env) as doomed:
        run = segment_services.start_segment_run(segmentation=segmentation)
        wait_until(
            lambda: SegmentRun.objects.filter(pk=run.pk, stage="write-back").exists(),
            timeout=WAIT_SECONDS,
            what="the run to reach its write-back",
        )
        doomed.kill()
    return run


def finished_run(run_id: int, wait_until, *, what: str) -> SegmentRun:
    return wait_until(
        lambda: SegmentRun.objects.filter(pk=run_id, state__in=SegmentRun.FINISHED_STATES).first(),
        timeout=WAIT_SECONDS,
        what=what,
    )


def test_a_worker_killed_in_a_segment_run_leaves_the_previous_run_then_the_run_completes(
    private_broker, postgres, spawn_celery_worker, wait_until, rfm_run_with_a_badge_each
):
    # given: customers with purchases and a succeeded RFM run giving each of them a badge
    segmentation, everyone_once = rfm_run_with_a_badge_each
    env = worker_env(private_broker)

    for _ in range(FAULT_ROUNDS):
        segmentation.refresh_from_db()
        previous = segmentation.current_run_id
        with membership_writes_blocked(postgres):
            # when: a worker is killed while the next run writes its memberships
            run = run_killed_in_its_write_back(segmentation, spawn_celery_worker, env, wait_until)

            # then: the previous run is still current, with one badge per customer
            segmentation.refresh_from_db()
            assert segmentation.current_run_id == previous
            assert badges_per_customer(previous) == everyone_once
            assert SegmentRun.objects.get(pk=run.pk).state == SegmentRun.State.RUNNING

        # when: a fresh worker starts, the killed run is delivered again
        with spawn_celery_worker(env=env) as fresh:
            finished = finished_run(run.pk, wait_until, what="the redelivered run to finish")
            assert "execute_segment_run_task[" in fresh.log()

        # then: it completed and is current, still one badge per customer
        assert finished.state == SegmentRun.State.SUCCEEDED, finished.error
        segmentation.refresh_from_db()
        assert segmentation.current_run_id == run.pk
        assert badges_per_customer(run.pk) == everyone_once


def test_a_segment_run_whose_killed_worker_never_comes_back_is_failed_and_run_again(
    private_broker, postgres, spawn_celery_worker, wait_until, rfm_run_with_a_badge_each
):
    # given: customers with purchases and a succeeded RFM run giving each of them a badge
    segmentation, everyone_once = rfm_run_with_a_badge_each
    env = worker_env(private_broker)

    for _ in range(FAULT_ROUNDS):
        segmentation.refresh_from_db()
        previous = segmentation.current_run_id
        # when: a worker is killed while the next run writes its memberships, and no worker
        # takes its task again for longer than the heartbeat timeout
        with membership_writes_blocked(postgres):
            stalled = run_killed_in_its_write_back(
                segmentation, spawn_celery_worker, env, wait_until
            )
        silent_since = timezone.now() - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT + 1)
        SegmentRun.objects.filter(pk=stalled.pk).update(heartbeat_at=silent_since)
        assert segment_tasks.fail_stalled_segment_runs() == 1

        # then: the run failed with the reason, the previous run still current and whole
        stalled.refresh_from_db()
        assert stalled.state == SegmentRun.State.FAILED
        assert stalled.error == "The worker stopped responding at 80 % — start it again."
        segmentation.refresh_from_db()
        assert segmentation.current_run_id == previous
        assert badges_per_customer(previous) == everyone_once

        # when: the lead starts again at once and a fresh worker also gets the killed task back
        again = segment_services.start_segment_run(segmentation=segmentation)
        with spawn_celery_worker(env=env) as fresh:
            finished = finished_run(again.pk, wait_until, what="the new run to finish")
            wait_until(
                lambda: len(re.findall(r"execute_segment_run_task\[\S+\] succeeded", fresh.log()))
                == 2,
                timeout=WAIT_SECONDS,
                what="the killed run's task to come back",
            )

        # then: the new run is current with one badge per customer; the stalled one stays failed
        assert finished.state == SegmentRun.State.SUCCEEDED, finished.error
        segmentation.refresh_from_db()
        assert segmentation.current_run_id == again.pk
        assert badges_per_customer(again.pk) == everyone_once
        assert SegmentRun.objects.get(pk=stalled.pk).error == stalled.error
        assert not Membership.objects.filter(run_id=stalled.pk).exists()


def test_mail_and_replies_while_redis_is_down_are_saved_then_sent_once(
    private_broker, spawn_celery_worker, smtp_server, settings, api, wait_until, monkeypatch
):
    monkeypatch.setattr(ticket_tasks, "SWEEP_AFTER_SECONDS", 0)
    mailbox = MailboxFactory()
    smtp_url = f"smtp://{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    with spawn_celery_worker(env=worker_env(private_broker, email_url=smtp_url)):
        for round_ in range(FAULT_ROUNDS):
            # when: Redis stops while customers write in and agents answer them
            private_broker.stop()
            tickets = [
                ticket_services.ingest_email(
                    mailbox=mailbox,
                    raw=raw_email(
                        sender=f"c{round_}n{n}@example.com",
                        subject=f"Question {round_}.{n}",
                        message_id=f"<q{round_}n{n}@mail.example.com>",
                    ),
                ).ticket
                for n in range(5)
            ]
            replies = [
                api.post(f"/api/tickets/{t.pk}/reply/", {"body_text": "Answer"}, format="json")
                for t in tickets
            ]

            # then: every ticket and reply is saved, waiting for its job
            assert [reply.status_code for reply in replies] == [201] * len(tickets)
            assert Ticket.objects.filter(pk__in=[t.pk for t in tickets]).count() == len(tickets)
            assert Ticket.objects.filter(routed_at__isnull=True).count() == len(tickets)

            # when: Redis is back on its port and the sweeper runs
            private_broker.start()
            assert ticket_tasks.sweep_unfinished_work()["route"] == len(tickets)

            # then: the worker reconnects and finishes the work
            wait_until(
                lambda: not Ticket.objects.filter(routed_at__isnull=True).exists()
                and not _undelivered().exists(),
                timeout=WAIT_SECONDS * 2,
                what="every ticket routed and every reply delivered",
            )
        assert ticket_tasks.sweep_unfinished_work() == {
            "process": 0,
            "route": 0,
            "deliver": 0,
            "import": 0,
            "fail_stalled_imports": 0,
        }

    # then: the SMTP server got each outbound message exactly once
    outbound = Message.objects.filter(kind=Message.Kind.OUTBOUND)
    received = Counter(message["Message-ID"] for message in smtp_server.messages)
    assert received == Counter(outbound.values_list("message_id", flat=True))
    assert outbound.count() >= len(tickets) * FAULT_ROUNDS


def _undelivered():
    return Message.objects.filter(
        kind=Message.Kind.OUTBOUND, delivery_status=Message.Delivery.PENDING
    )
