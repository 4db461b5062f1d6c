import hashlib

import pytest

from tests.tickets.emails import raw_email
from tickets import mime

LIMIT = 1024


def parse(raw: bytes, limit: int = LIMIT) -> mime.ParsedEmail:
    return mime.parse_email(raw, max_attachment_bytes=limit)


def test_plain_text_is_preferred_and_html_is_sanitised():
    html = (
        '<p onclick="steal()" style="color:red">Hi <b>there</b></p>'
        "<script>alert(1)</script><style>p{}</style>"
        '<a href="javascript:alert(1)">bad</a> <a href="https://example.com/x">good</a>'
        '<img src="https://tracker.example.com/p.gif" onerror="x()">'
    )

    parsed = parse(raw_email(body="Plain words", html=html))

    assert parsed.text.strip() == "Plain words"
    assert "<b>there</b>" in parsed.html
    assert '<a href="https://example.com/x" rel="noopener noreferrer nofollow">good</a>' in (
        parsed.html
    )
    for forbidden in ("script", "alert", "onclick", "style", "javascript:", "onerror", "<img"):
        assert forbidden not in parsed.html


def test_text_comes_from_the_html_when_there_is_no_plain_part():
    raw = (
        b"From: ann@example.com\r\nSubject: hi\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<p>First&nbsp;line</p><p>Second <b>line</b></p><script>evil()</script>"
    )

    parsed = parse(raw)

    assert parsed.text == "First line\n\nSecond line"
    assert "evil" not in parsed.text


def test_declared_charsets_are_decoded():
    raw = (
        b"From: ann@example.com\r\nSubject: =?iso-8859-1?q?Gr=FC=DFe?=\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nSch\xf6ne Gr\xfc\xdfe"
    )

    parsed = parse(raw)

    assert parsed.subject == "Grüße"
    assert parsed.text == "Schöne Grüße"


@pytest.mark.parametrize("charset", ["x-no-such-charset", "base64", "rot13", "utf-99", ""])
def test_an_unknown_charset_decodes_as_utf8_with_replacement(charset):
    raw = (
        b"From: ann@example.com\r\nSubject: hi\r\n"
        b'Content-Type: text/plain; charset="' + charset.encode() + b'"\r\n\r\n'
        b"caf\xc3\xa9 \xff\xfe end"
    )

    parsed = parse(raw)

    assert parsed.text == "café \ufffd\ufffd end"


def test_undecodable_header_bytes_become_replacement_characters_without_nul():
    raw = b"From: Ann \xff <ann@example.com>\r\nSubject: bad \xfe\x00 bytes\r\n\r\nbody\x00here"

    parsed = parse(raw)

    assert parsed.from_address == "ann@example.com"
    assert "\x00" not in parsed.subject + parsed.text
    assert "\ufffd" in parsed.subject
    parsed.subject.encode("utf-8")  # no lone surrogates left


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \r\n",
        b"Subject: no sender\r\n\r\nbody",
        b"From: not an address\r\n\r\nbody",
        b"From: <>\r\n\r\nbody",
    ],
    ids=["empty", "blank", "no-from", "from-without-address", "null-from"],
)
def test_a_message_without_a_usable_sender_cannot_be_parsed(raw):
    with pytest.raises(mime.UnparseableEmail):
        parse(raw)


def test_message_id_is_the_header_or_derived_from_the_sha256_of_the_bytes():
    with_id = raw_email(message_id="<abc@example.com>")
    without_id = raw_email(message_id=None)
    digest = hashlib.sha256(without_id).hexdigest()

    assert mime.message_id_of(with_id) == "<abc@example.com>"
    assert mime.message_id_of(without_id) == f"<{digest}@sha256.invalid>"
    assert mime.message_id_of(b"\xff\x00 garbage") == mime.message_id_of(b"\xff\x00 garbage")


def test_a_huge_message_id_header_falls_back_to_the_hash():
    raw = b"From: ann@example.com\r\nMessage-ID: <" + b"x" * 5000 + b"@example.com>\r\n\r\nhi"

    assert mime.message_id_of(raw).endswith("@sha256.invalid>")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"<\x00>", None),
        (b"<>", None),
        # Cleaning these would lose bytes, and two different ids could become one key.
        (b"<a\x00b@example.com>", None),
        (b"<\xe9\xe8@example.com>", None),
        ("<d\u00e9j\u00e0@example.com>".encode(), "<d\u00e9j\u00e0@example.com>"),  # UTF-8
    ],
)
def test_a_message_id_that_cleaning_would_change_falls_back_to_the_hash(header, expected):
    raw = b"From: ann@example.com\r\nMessage-ID: " + header + b"\r\n\r\nhi"
    digest = hashlib.sha256(raw).hexdigest()

    assert mime.message_id_of(raw) == (expected or f"<{digest}@sha256.invalid>")


def test_huge_headers_are_cut_to_their_field_sizes():
    raw = raw_email(subject="word " * 20_000, headers={"X-Junk": "y" * 100_000})

    parsed = parse(raw)

    assert len(parsed.subject) == 255
    assert all(len(value) <= mime.MAX_HEADER_VALUE_CHARS for value in parsed.headers.values())


def test_thread_ids_put_in_reply_to_first_then_references_newest_first():
    raw = raw_email(in_reply_to="<c@x>", references="<a@x> <b@x> <c@x>")

    assert parse(raw).thread_ids == ["<c@x>", "<b@x>", "<a@x>"]


def test_subject_token_gives_the_ticket_number():
    assert mime.ticket_number_in_subject("Re: Broken printer [#1234]") == 1234
    assert mime.ticket_number_in_subject("Re: Broken printer #1234") is None


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "ann@example.com", "Auto-Submitted: auto-replied"),
        ({"Precedence": "bulk"}, "ann@example.com", "Precedence: bulk"),
        ({"Precedence": "auto_reply"}, "ann@example.com", "Precedence: auto_reply"),
        ({"X-Autoreply": "yes"}, "ann@example.com", "X-Autoreply header"),
        ({"X-Autorespond": "yes"}, "ann@example.com", "X-Autorespond header"),
        ({}, "MAILER-DAEMON@mx.example.com", "sent by MAILER-DAEMON@mx.example.com"),
        ({}, "postmaster@example.com", "sent by postmaster@example.com"),
        ({"Return-Path": "<>"}, "ann@example.com", "null return path (bounce)"),
    ],
)
def test_machine_sent_mail_is_recognised(headers, sender, reason):
    parsed = parse(raw_email(sender=sender, headers=headers))

    assert parsed.automatic_reason == reason


def test_a_person_saying_auto_submitted_no_is_not_automatic():
    parsed = parse(raw_email(headers={"Auto-Submitted": "no", "Precedence": "first-class"}))

    assert parsed.automatic_reason == ""


@pytest.mark.parametrize(
    "report_type", [b"report-type=delivery-status", b"report-type*=utf-8''delivery-status"]
)
def test_a_delivery_status_report_is_a_bounce_even_from_an_odd_sender(report_type):
    raw = (
        b"From: Mail Delivery System <delivery@mx.example.com>\r\nSubject: Undelivered\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/report; " + report_type + b'; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--B--\r\n"
    )

    assert parse(raw).automatic_reason == "delivery report (delivery-status)"


def test_attachments_keep_type_and_a_safe_name_zero_bytes_included_oversized_skipped():
    raw = raw_email(
        attachments=(
            ("../../etc/passwd.pdf", b"%PDF-1.4 small", "application/pdf"),
            ("empty.txt", b"", "text/plain"),
            ("huge.bin", b"x" * (LIMIT + 1), "application/octet-stream"),
            ("..", b"dots", "image/png"),
        )
    )

    parsed = parse(raw)

    assert [(a.filename, a.content_type, a.content) for a in parsed.attachments] == [
        ("passwd.pdf", "application/pdf", b"%PDF-1.4 small"),
        ("empty.txt", "text/plain", b""),
        ("attachment-5.png", "image/png", b"dots"),
    ]
    assert parsed.skipped_attachments == [
        f"huge.bin ({LIMIT + 1} bytes, over the {LIMIT} byte limit)"
    ]


def test_an_attached_message_is_kept_whole():
    inner = raw_email(subject="Forwarded", body="inner body", message_id="<inner@x>")
    raw = (
        b"From: ann@example.com\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
        b"--B\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--B--\r\n"
    )

    parsed = parse(raw)

    assert parsed.text.strip() == "see below"
    [attached] = parsed.attachments
    assert attached.content_type == "message/rfc822"
    assert b"inner body" in attached.content


@pytest.mark.parametrize(
    "raw",
    [
        b'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="never"\r\n\r\nno parts',
        b"From: a@example.com\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\n\r\n",
        b"From: a@example.com\r\nContent-Type: text/plain\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64@@@",
        b"From: a@example.com\r\nContent-Type: ///\r\n\r\nbody",
        b"From: a@example.com\r\nContent-Disposition: attachment; filename*=bogus''%%%\r\n"
        b"Content-Type: application/x-thing\r\n\r\nbody",
        b"From: a@example.com\r\nContent-Type: message/rfc822\r\n\r\nnot a message at all",
        b"From: a@example.com\r\n"
        + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" * 200
        + b"\r\nbottom",
    ],
    ids=[
        "boundary-never-used",
        "multipart-without-boundary",
        "broken-base64",
        "nonsense-content-type",
        "broken-rfc2231-filename",
        "broken-attached-message",
        "deeply-nested",
    ],
)
def test_broken_mime_from_a_real_sender_still_parses(raw):
    parsed = parse(raw)

    assert parsed.from_address == "a@example.com"
