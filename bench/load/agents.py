"""Load generator: agents working the inbox in the browser, plus pushed inbound email.

Threads and ``requests`` rather than locust: the whole scenario is ~200 lines with no new
dependency (locust pulls in gevent, flask and a web UI), and the load here is modest (tens of
requests per second), well within what threads drive; latencies are measured per request
around the HTTP call.

Each virtual agent logs in through the login form (CSRF token from the form, as a browser),
then until the deadline: browses the inbox with a random filter, opens a ticket from the list it
got, sometimes replies to it (CSRF token from the ticket page), with a think time between
actions. Inbound email is an open loop: one raw RFC 822 message every 1/rate seconds, POSTed
to ``/inbound/email/<mailbox>/`` with the mailbox token, whatever the server's speed; a fifth of
them answer an earlier message (In-Reply-To), so threading is exercised too.
"""

import random
import re
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import numpy as np
import requests

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TICKET_LINK = re.compile(r'href="/tickets/(\d+)/"')
INBOX_FILTERS = (
    {},
    {"status": "open", "sort": "updated"},
    {"status": "open", "assignee": "mine"},
    {"status": "new", "assignee": "unassigned", "sort": "created"},
    {"status": "pending", "channel": "email"},
    {"priority": "high", "sort": "priority"},
    {"status": "open", "page": "2"},
)
SEARCH_WORDS = ("refund", "invoice", "password", "delivery", "login")
REQUEST_TIMEOUT_SECONDS = 30
EMAILS_IN_FLIGHT = 64  # beyond this many unanswered messages the sender waits
# Logging in hashes the password (PBKDF2, hundreds of ms of CPU by design): the ramp-up
# spaces the logins out and gives them longer.
LOGIN_TIMEOUT_SECONDS = 120
RAMP_UP = "(ramp-up, before the window)"


@dataclass
class Recorder:
    started: float = field(default_factory=time.perf_counter)
    latencies: dict = field(default_factory=lambda: defaultdict(list))
    errors: dict = field(default_factory=lambda: defaultdict(list))
    unanswered: dict = field(default_factory=lambda: defaultdict(int))

    def call(self, endpoint: str, expected: int, send) -> requests.Response | None:
        began = time.perf_counter()
        try:
            response = send()
        except requests.RequestException as error:
            self.errors[endpoint].append(f"{type(error).__name__}: {error}"[:200])
            self.unanswered[endpoint] += 1
            return None
        self.latencies[endpoint].append(time.perf_counter() - began)
        if response.status_code != expected:
            self.errors[endpoint].append(f"HTTP {response.status_code} (expected {expected})")
            return None
        return response

    def summary(self, seconds: float) -> dict:
        endpoints = {}
        for endpoint in sorted(set(self.latencies) | set(self.errors)):
            values = np.array(self.latencies[endpoint]) * 1000
            percentiles = np.percentile(values, [50, 95, 99]) if len(values) else [np.nan] * 3
            endpoints[endpoint] = {
                "requests": len(values) + self.unanswered[endpoint],
                "errors": len(self.errors[endpoint]),
                "rps": np.nan if endpoint.endswith(RAMP_UP) else len(values) / seconds,
                "p50_ms": float(percentiles[0]),
                "p95_ms": float(percentiles[1]),
                "p99_ms": float(percentiles[2]),
                "error_samples": sorted(set(self.errors[endpoint]))[:5],
            }
        return endpoints


class Agent:
    def __init__(self, *, base_url: str, username: str, password: str, rng, recorder, think):
        self.base_url, self.username, self.password = base_url, username, password
        self.rng, self.recorder, self.think = rng, recorder, think
        self.session = requests.Session()
        # Browsers send Origin on POST; Django's CSRF check compares it with the host.
        self.session.headers["Origin"] = base_url
        self.ticket_ids: list[str] = []

    def get(self, endpoint: str, path: str, params=None):
        response = self.recorder.call(
            endpoint,
            200,
            lambda: self.session.get(
                self.base_url + path, params=params, timeout=REQUEST_TIMEOUT_SECONDS
            ),
        )
        self._send_cookies_over_http()
        return response

    def _send_cookies_over_http(self) -> None:
        """Production marks the session and CSRF cookies Secure; the load generator stands
        where the TLS-terminating proxy would be, so it sends them over plain HTTP."""
        for cookie in self.session.cookies:
            cookie.secure = False

    def post(self, endpoint: str, path: str, data: dict, timeout=REQUEST_TIMEOUT_SECONDS):
        response = self.recorder.call(
            endpoint,
            302,
            lambda: self.session.post(
                self.base_url + path,
                data=data,
                allow_redirects=False,
                timeout=timeout,
                headers={"Referer": self.base_url + path},
            ),
        )
        self._send_cookies_over_http()
        return response

    def log_in(self) -> bool:
        form = self.get(f"login form {RAMP_UP}", "/login/")
        if form is None:
            return False
        token = CSRF_FIELD.search(form.text)[1]
        answer = self.post(
            f"login POST {RAMP_UP}",
            "/login/",
            {"username": self.username, "password": self.password, "csrfmiddlewaretoken": token},
            timeout=LOGIN_TIMEOUT_SECONDS,
        )
        return answer is not None and "/login/" not in answer.headers.get("Location", "")

    def browse_inbox(self) -> None:
        if self.rng.random() < 0.1:
            endpoint, params = "inbox search", {"q": self.rng.choice(SEARCH_WORDS)}
        else:
            endpoint, params = "inbox", self.rng.choice(INBOX_FILTERS)
        page = self.get(endpoint, "/", params)
        if page is not None:
            self.ticket_ids = TICKET_LINK.findall(page.text) or self.ticket_ids

    def open_ticket(self, reply: bool) -> None:
        ticket_id = self.rng.choice(self.ticket_ids)
        page = self.get("ticket", f"/tickets/{ticket_id}/")
        if page is None or not reply:
            return
        time.sleep(self.think())
        self.post(
            "reply POST",
            f"/tickets/{ticket_id}/reply/",
            {
                "csrfmiddlewaretoken": CSRF_FIELD.search(page.text)[1],
                "body_text": f"Thanks for your patience, looking into it ({self.username}).",
                "status": "",
            },
        )

    def work(self, everyone_in: threading.Barrier, window) -> None:
        logged_in = self.log_in()
        everyone_in.wait()
        if not logged_in:
            return
        # Each agent starts after a pause of its own: released together by the barrier, all
        # fifty would ask for the inbox in the same instant, a burst no desk ever sees.
        time.sleep(self.think())
        while time.perf_counter() < window.deadline:
            if not self.ticket_ids or self.rng.random() < 0.5:
                self.browse_inbox()
            else:
                self.open_ticket(reply=self.rng.random() < 0.3)
            # No thinking past the deadline: the window ends with the last answer.
            time.sleep(max(0.0, min(self.think(), window.deadline - time.perf_counter())))


class Mail:
    """Raw messages from a pool of senders; some answer a message sent earlier."""

    def __init__(self, rng, senders: int = 2000):
        self.rng, self.senders = rng, senders
        self.sent: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()

    def next_message(self, to: str) -> bytes:
        message = EmailMessage()
        with self.lock:
            earlier = self.rng.choice(self.sent) if self.sent and self.rng.random() < 0.2 else None
            number = self.rng.randrange(self.senders)
        if earlier:
            sender, subject, parent = earlier
            message["Subject"], message["In-Reply-To"] = f"Re: {subject}", parent
        else:
            sender, subject = f"load-{number}@customers.example", f"Order question {number}"
            message["Subject"] = subject
        message["From"], message["To"] = sender, to
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain="customers.example")
        message.set_content(f"Hello,\n\nwhere is my order {number}? It was due last week.\n")
        with self.lock:
            self.sent.append((sender, subject.removeprefix("Re: "), message["Message-ID"]))
        return message.as_bytes()


def push_email(*, base_url, mailbox, token, rate, deadline, recorder, rng) -> None:
    """Open loop: a message every 1/rate s, sent from a pool so a slow server queues them."""
    mail = Mail(rng)
    url = f"{base_url}/inbound/email/{mailbox}/"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "message/rfc822"}
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=EMAILS_IN_FLIGHT))

    # Taken before a message is handed to the pool: without it the pool's queue would grow
    # without bound, and a message's time waiting there would be missing from its latency.
    in_flight = threading.BoundedSemaphore(EMAILS_IN_FLIGHT)

    def deliver():
        try:
            raw = mail.next_message(f"{mailbox}@helpdesk.example")
            recorder.call(
                "inbound email POST",
                202,
                lambda: session.post(
                    url, data=raw, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS
                ),
            )
        finally:
            in_flight.release()

    with ThreadPoolExecutor(max_workers=EMAILS_IN_FLIGHT) as pool:
        due = time.perf_counter()
        while due < deadline:
            in_flight.acquire()
            pool.submit(deliver)
            due += 1 / rate
            time.sleep(max(0.0, due - time.perf_counter()))


@dataclass
class Window:
    """The measured window: it opens once every agent has logged in (logins are a ramp-up
    burst of password hashing, not the steady state being measured)."""

    duration: float
    opened: float = 0.0
    deadline: float = 0.0

    def open(self) -> None:
        self.opened = time.perf_counter()
        self.deadline = self.opened + self.duration


def run(
    *, base_url, users, password, agents, spawn_rate, duration, email_rate, mailbox, token, think
):
    """Log the agents in, then drive the load for ``duration`` seconds; return per-endpoint
    figures and the measured window's length."""
    recorder = Recorder()
    low, high = think
    window = Window(duration)
    everyone_in = threading.Barrier(agents + 1, action=window.open)
    threads = []
    for number in range(agents):
        rng = random.Random(number)
        agent = Agent(
            base_url=base_url,
            username=users[number % len(users)],
            password=password,
            rng=rng,
            recorder=recorder,
            think=lambda rng=rng: rng.uniform(low, high),
        )
        threads.append(threading.Thread(target=agent.work, args=(everyone_in, window), daemon=True))
    for thread in threads:
        thread.start()
        time.sleep(1 / spawn_rate)
    everyone_in.wait(timeout=LOGIN_TIMEOUT_SECONDS + agents / spawn_rate)
    if email_rate > 0:
        email = threading.Thread(
            target=push_email,
            kwargs=dict(
                base_url=base_url,
                mailbox=mailbox,
                token=token,
                rate=email_rate,
                deadline=window.deadline,
                recorder=recorder,
                rng=random.Random(-1),
            ),
            daemon=True,
        )
        email.start()
        threads.append(email)
    for thread in threads:
        thread.join(timeout=duration + 2 * REQUEST_TIMEOUT_SECONDS)
    seconds = time.perf_counter() - window.opened
    return recorder.summary(seconds), seconds
