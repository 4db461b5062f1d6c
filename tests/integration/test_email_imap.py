"""IMAP polling against a real IMAP server: a private Dovecot started from a temporary folder."""

import grp
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.factories import MailboxFactory
from tests.real_services import missing
from tests.smtp import free_port
from tests.tickets.emails import raw_email
from tickets import tasks
from tickets.models import InboundEmail, Ticket

pytestmark = pytest.mark.integration

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "support", "imap-test-secret"
PASSWORD_ENV = "HD_TEST_IMAP_PASSWORD"

CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_login_user = {service_user}
default_internal_user = {service_user}
default_internal_group = {service_group}
first_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
"""


def _service_account() -> pwd.struct_passwd:
    """Dovecot refuses to run its login and mail processes as root; use nobody then."""
    return pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())


def _wait_for_greeting(port: int, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            imaplib.IMAP4("127.0.0.1", port, timeout=2).logout()
            return
        except (OSError, imaplib.IMAP4.error):
            time.sleep(0.1)
    pytest.fail(f"dovecot did not answer on port {port}:\n{log.read_text(errors='replace')}")


@pytest.fixture
def dovecot():
    """A running Dovecot with one user; yields its port."""
    if not Path(DOVECOT).exists():
        missing("dovecot is not installed (Debian package dovecot-imapd)")
    # dovecot's socket paths have a length limit, so a short folder rather than pytest's tmp_path
    root = Path(tempfile.mkdtemp(prefix="hd-dovecot-"))
    root.chmod(0o755)  # dovecot's unprivileged processes read the passwd file in it
    account = _service_account()
    for folder in ("run", "state", "mail", "home"):
        (root / folder).mkdir()
    port = free_port()
    (root / "passwd").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{account.pw_uid}:{account.pw_gid}::{root}/home\n"
    )
    group = account.pw_gid
    for folder in ("mail", "home"):
        os.chown(root / folder, account.pw_uid, group)
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root,
            port=port,
            uid=account.pw_uid,
            service_user=account.pw_name,
            service_group=grp.getgrgid(group).gr_name,
        )
    )
    subprocess.run([DOVECOT, "-c", str(config)], check=True)
    try:
        _wait_for_greeting(port, root / "dovecot.log")
        yield port
    finally:
        subprocess.run([DOVECOT, "-c", str(config), "stop"], check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_mailbox(dovecot, postgres, db, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return MailboxFactory(
        imap_host="127.0.0.1",
        imap_port=dovecot,
        imap_use_tls=False,
        imap_user=USER,
        imap_password_env=PASSWORD_ENV,
    )


def imap_client(port: int) -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login(USER, PASSWORD)
    return client


def deliver(port: int, *raws: bytes) -> None:
    client = imap_client(port)
    for raw in raws:
        typ, _ = client.append("INBOX", None, None, raw)
        assert typ == "OK"
    client.logout()


def unseen_count(port: int) -> int:
    client = imap_client(port)
    client.select("INBOX")
    _, data = client.search(None, "UNSEEN")
    client.logout()
    return len(data[0].split())


def test_polling_ingests_unseen_mail_then_marks_it_seen_and_a_second_poll_ingests_nothing(
    imap_mailbox, dovecot
):
    # given: two customer messages and one auto-reply waiting in the mailbox
    deliver(
        dovecot,
        raw_email(message_id="<one@mail.example.com>", subject="First"),
        raw_email(sender="bob@example.org", message_id="<two@mail.example.org>", subject="Second"),
        raw_email(message_id="<ooo@mail.example.com>", headers={"Auto-Submitted": "auto-replied"}),
    )
    assert unseen_count(dovecot) == 3

    # when
    started = tasks.poll_mailboxes.delay().get()

    # then
    assert started == 1
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["First", "Second"]
    assert InboundEmail.objects.filter(state=InboundEmail.State.IGNORED).count() == 1
    assert unseen_count(dovecot) == 0

    # when: polling again
    outcomes = tasks.poll_mailbox.delay(imap_mailbox.pk).get()

    # then
    assert outcomes == {}
    assert InboundEmail.objects.count() == 3


def test_a_message_flagged_unseen_again_is_a_duplicate_not_a_second_ticket(imap_mailbox, dovecot):
    deliver(dovecot, raw_email())
    tasks.poll_mailbox.delay(imap_mailbox.pk).get()
    client = imap_client(dovecot)
    client.select("INBOX")
    client.store("1", "-FLAGS", "(\\Seen)")
    client.logout()

    outcomes = tasks.poll_mailbox.delay(imap_mailbox.pk).get()

    assert outcomes == {"duplicate": 1}
    assert Ticket.objects.count() == 1


def test_a_wrong_password_is_an_imap_error_and_nothing_is_marked_seen(
    imap_mailbox, dovecot, monkeypatch
):
    deliver(dovecot, raw_email())
    monkeypatch.setenv(PASSWORD_ENV, "wrong")

    with pytest.raises(imaplib.IMAP4.error):
        tasks.poll_mailbox.apply(args=[imap_mailbox.pk], retries=tasks.poll_mailbox.max_retries)

    assert unseen_count(dovecot) == 1
    assert InboundEmail.objects.count() == 0
