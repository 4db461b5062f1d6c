"""Property: whatever bytes arrive, ``ingest_email`` returns, and the raw bytes are stored."""

import os

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.factories import MailboxFactory
from tickets import services
from tickets.models import InboundEmail
from tickets.services import IngestOutcome

# 200 in the normal suite; the long run sets FUZZ_EXAMPLES=10000.
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
HEADER_NAMES = [
    "From",
    "To",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "Auto-Submitted",
    "Precedence",
    "Return-Path",
    "X-Anything",
]
CHARSETS = ["utf-8", "iso-8859-1", "windows-1252", "utf-16", "shift_jis", "koi8-r", "bogus", ""]
CONTENT_TYPES = [
    "text/plain",
    "text/html",
    "application/octet-stream",
    "image/png",
    "message/rfc822",
    "multipart/report; report-type=delivery-status",
]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "nonsense"]

header_value = st.one_of(
    st.text(max_size=200),
    st.emails().map(lambda address: f"Someone <{address}>"),
    st.from_regex(r"<[a-z0-9.]{1,20}@[a-z]{1,10}\.example>", fullmatch=True),
    st.from_regex(r"Re: .{0,30}\[#[0-9]{1,6}\]", fullmatch=True),
)
header_line = st.builds(
    lambda name, value, charset: f"{name}: {value}".encode(charset or "utf-8", "replace"),
    st.sampled_from(HEADER_NAMES),
    header_value,
    st.sampled_from(["utf-8", "latin-1"]),
)


@st.composite
def leaf_part(draw) -> bytes:
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    headers = [
        f"Content-Type: {content_type}; charset={charset}".encode(),
        f"Content-Transfer-Encoding: {draw(st.sampled_from(ENCODINGS))}".encode(),
    ]
    if draw(st.booleans()):
        name = draw(st.text(max_size=40)).encode("utf-8", "surrogatepass")
        headers.append(b'Content-Disposition: attachment; filename="' + name + b'"')
    body = draw(st.one_of(st.binary(max_size=500), st.text(max_size=500).map(str.encode)))
    return b"\r\n".join(headers) + b"\r\n\r\n" + body


def mime_tree(depth: int = 0):
    if depth >= 3:
        return leaf_part()
    return st.one_of(leaf_part(), multipart(depth))


@st.composite
def multipart(draw, depth: int) -> bytes:
    boundary = draw(st.from_regex(r"[A-Za-z0-9'()+_,./:=?-]{1,30}", fullmatch=True))
    subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report"]))
    parts = draw(st.lists(mime_tree(depth + 1), max_size=4))
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode()
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    closing = draw(st.sampled_from([b"--" + boundary.encode() + b"--\r\n", b"", b"--\r\n"]))
    return head + body + closing


@st.composite
def structured_message(draw) -> bytes:
    headers = draw(st.lists(header_line, max_size=12))
    if draw(st.booleans()):
        headers.insert(0, f"From: {draw(st.emails())}".encode())
    return b"\r\n".join(headers) + b"\r\n" + draw(mime_tree())


messages = st.one_of(structured_message(), st.binary(max_size=3000))


@pytest.fixture
def mailbox(db):
    return MailboxFactory()


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=messages)
def test_any_message_is_stored_raw_and_never_raises(mailbox, raw):
    result = services.ingest_email(mailbox=mailbox, raw=raw)
    event(result.outcome.value)

    stored = InboundEmail.objects.get(pk=result.inbound.pk)
    assert stored.state != InboundEmail.State.RECEIVED
    if result.outcome != IngestOutcome.DUPLICATE:
        assert bytes(stored.raw) == raw
    if result.outcome in (IngestOutcome.CREATED, IngestOutcome.THREADED):
        message = stored.message
        assert message.ticket == result.ticket
        assert "<script" not in message.body_html
        assert "\x00" not in message.body_text
