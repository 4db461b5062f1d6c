"""The IMAP edge of inbound mail: log in to a mailbox, list unseen mail, fetch it, flag it seen.

``imap_use_tls`` on: implicit TLS (IMAP4_SSL), or STARTTLS when the port is 143.
``imap_use_tls`` off: a plain connection, meant only for a server on the same host or in tests.
"""

import imaplib
import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from tickets.models import Mailbox

STARTTLS_PORT = 143
TIMEOUT_SECONDS = 30


class MailboxNotConfigured(ValueError):
    """Host, user or the password's environment variable is missing; retrying cannot help."""


@contextmanager
def imap_session(mailbox: Mailbox) -> Iterator[imaplib.IMAP4]:
    """A logged-in connection with the mailbox's folder selected, logged out afterwards."""
    password = os.environ.get(mailbox.imap_password_env, "") if mailbox.imap_password_env else ""
    if not (mailbox.imap_host and mailbox.imap_user and password):
        raise MailboxNotConfigured(
            f"mailbox {mailbox.slug}: IMAP host, user and the password variable "
            f"{mailbox.imap_password_env or '(none named)'} must be set"
        )
    client = _connect(mailbox)
    try:
        _check(client.login(mailbox.imap_user, password))
        _check(client.select(_quoted(mailbox.imap_folder)))
        yield client
    finally:
        with suppress(imaplib.IMAP4.error, OSError):  # the connection is being dropped anyway
            client.logout()


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    host, port = mailbox.imap_host, mailbox.imap_port
    if not mailbox.imap_use_tls:
        return imaplib.IMAP4(host, port, timeout=TIMEOUT_SECONDS)
    context = ssl.create_default_context()
    if port == STARTTLS_PORT:
        client = imaplib.IMAP4(host, port, timeout=TIMEOUT_SECONDS)
        client.starttls(ssl_context=context)
        return client
    return imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=TIMEOUT_SECONDS)


def unseen_uids(client: imaplib.IMAP4) -> list[bytes]:
    typ, data = client.uid("SEARCH", None, "UNSEEN")
    _check((typ, data))
    return data[0].split() if data and data[0] else []


def fetch_raw(client: imaplib.IMAP4, uid: bytes) -> bytes | None:
    """The full message without setting \\Seen (BODY.PEEK); None when it has gone meanwhile."""
    typ, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
    _check((typ, data))
    for item in data or []:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None


def mark_seen(client: imaplib.IMAP4, uid: bytes) -> None:
    _check(client.uid("STORE", uid, "+FLAGS", "(\\Seen)"))


def _check(response: tuple) -> None:
    typ, data = response
    if typ != "OK":
        raise imaplib.IMAP4.error(f"IMAP server answered {typ}: {data!r}")


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
