"""Parsing of raw RFC 822 messages into what a ticket needs. Pure: no database, no settings.

Inbound mail is hostile input: every function here accepts any bytes. ``parse_email`` either
returns a ``ParsedEmail`` or raises ``UnparseableEmail``; it never raises anything else.
"""

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value, parseaddr
from html.parser import HTMLParser

import nh3

MAX_HEADER_VALUE_CHARS = 998
MAX_THREAD_IDS = 100
MAX_MIME_DEPTH = 20
AUTOMATIC_PRECEDENCE = {"bulk", "junk", "auto_reply", "list"}
AUTOMATIC_SENDERS = {"mailer-daemon", "postmaster"}
KEPT_HEADERS = (
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
)
SAFE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li", "ol", "p", "pre",
    "q", "s", "small", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
SAFE_ATTRIBUTES = {
    "a": {"href", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
SAFE_URL_SCHEMES = {"http", "https", "mailto"}
BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}

MESSAGE_ID_RE = re.compile(r"<[^<>\s]{1,900}>")
SUBJECT_TOKEN_RE = re.compile(r"\[#(\d{1,18})\]")
ADDRESS_RE = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
UNSAFE_FILENAME_CHARS_RE = re.compile(r"[^\w.\- ]")


class UnparseableEmail(ValueError):
    """The message cannot become a ticket message; the raw bytes are kept for an admin."""


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str
    from_address: str
    from_name: str
    subject: str
    thread_ids: list[str]
    text: str
    html: str
    headers: dict[str, str]
    attachments: list[ParsedAttachment] = field(default_factory=list)
    skipped_attachments: list[str] = field(default_factory=list)
    automatic_reason: str = ""


def message_id_of(raw: bytes) -> str:
    """The Message-ID header, or one derived from the SHA-256 of the raw bytes when it is
    absent or unusable. It keys deduplication, so one that cleaning would change lossily (a NUL
    dropped, bytes that are not UTF-8 replaced) is unusable: two different messages could
    clean to the same id, and the second would be dropped as a duplicate."""
    try:
        headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        value = _raw_header(headers, "Message-ID")
    except Exception:  # a hostile header block must not stop the raw bytes from being stored
        value = ""
    cleaned = clean_text(value)
    usable = "\x00" not in value and "\ufffd" not in cleaned
    return (usable and normalise_message_id(cleaned)) or (
        f"<{hashlib.sha256(raw).hexdigest()}@sha256.invalid>"
    )


def normalise_message_id(value: str) -> str:
    found = MESSAGE_ID_RE.search(value)
    if found:
        return found.group(0)
    bare = value.strip()
    if (
        not bare
        or len(bare) > MAX_HEADER_VALUE_CHARS - 2
        or any(c.isspace() or c in "<>" for c in bare)
    ):
        return ""
    return f"<{bare}>"


def parse_email(raw: bytes, *, max_attachment_bytes: int) -> ParsedEmail:
    try:
        return _parse(raw, max_attachment_bytes=max_attachment_bytes)
    except UnparseableEmail:
        raise
    except Exception as exc:  # the stdlib parser has many failure modes on hostile input
        raise UnparseableEmail(f"cannot parse message: {type(exc).__name__}: {exc}") from exc


def _parse(raw: bytes, *, max_attachment_bytes: int) -> ParsedEmail:
    if not raw.strip():
        raise UnparseableEmail("empty message")
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    from_name, from_address = parseaddr(_header(msg, "From"))
    automatic = automatic_reason(msg, from_address)
    if not automatic and not is_valid_address(from_address):
        raise UnparseableEmail("missing or invalid From address")
    text_part = _body_part(msg, "plain")
    html_part = _body_part(msg, "html")
    html = sanitise_html(_decoded_text(html_part)) if html_part is not None else ""
    text = _decoded_text(text_part) if text_part is not None else html_to_text(html)
    attachments, skipped = _attachments(msg, {id(text_part), id(html_part)}, max_attachment_bytes)
    return ParsedEmail(
        message_id=message_id_of(raw),
        from_address=from_address.strip(),
        from_name=from_name.strip()[:200],
        subject=" ".join(_header(msg, "Subject").split())[:255],
        thread_ids=thread_ids(msg),
        text=text,
        html=html,
        headers={
            name: value[:MAX_HEADER_VALUE_CHARS]
            for name in KEPT_HEADERS
            if (value := _header(msg, name))
        },
        attachments=attachments,
        skipped_attachments=skipped,
        automatic_reason=automatic,
    )


def clean_text(value: str) -> str:
    """Valid UTF-8 without NUL: undecodable header bytes arrive as surrogate escapes."""
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = value.encode("utf-8", "replace")
    return data.decode("utf-8", "replace").replace("\x00", "")


def _header(msg: EmailMessage, name: str) -> str:
    """The header's value as clean text (see ``clean_text``), "" when absent: whatever is read
    from a header may end up in the database."""
    return clean_text(_raw_header(msg, name))


def _raw_header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg[name]
        return "" if value is None else str(value)
    except Exception:  # a header the registry cannot parse: fall back to its raw text
        raw = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), "")
        return str(raw)


def is_valid_address(address: str) -> bool:
    return len(address) <= 254 and ADDRESS_RE.match(address.strip()) is not None


def automatic_reason(msg: EmailMessage, from_address: str) -> str:
    """Why the message was sent by a machine (auto-reply, bounce, list), or "" for a person."""
    auto_submitted = _header(msg, "Auto-Submitted").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted[:100]}"
    precedence = _header(msg, "Precedence").strip().lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if name in msg:
            return f"{name} header"
    if from_address.strip().partition("@")[0].lower() in AUTOMATIC_SENDERS:
        return f"sent by {from_address}"
    if _header(msg, "Return-Path").strip() == "<>":
        return "null return path (bounce)"
    if msg.get_content_type() == "multipart/report":
        report_type = clean_text(collapse_rfc2231_value(msg.get_param("report-type", "")))
        return f"delivery report ({report_type[:100] or 'unknown type'})"
    return ""


def thread_ids(msg: EmailMessage) -> list[str]:
    """Message-IDs this message answers, most recent first: In-Reply-To, then References."""
    in_reply_to = MESSAGE_ID_RE.findall(_header(msg, "In-Reply-To"))
    references = MESSAGE_ID_RE.findall(_header(msg, "References"))
    ordered = dict.fromkeys([*in_reply_to, *reversed(references)])
    return list(ordered)[:MAX_THREAD_IDS]


def ticket_number_in_subject(subject: str) -> int | None:
    found = SUBJECT_TOKEN_RE.search(subject)
    return int(found.group(1)) if found else None


def _body_part(msg: EmailMessage, subtype: str) -> EmailMessage | None:
    part = msg.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    return part


def _decoded_text(part: EmailMessage) -> str:
    """The part's text in its declared charset; an unknown charset decodes as UTF-8."""
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset, errors="replace")
    except (LookupError, ValueError, TypeError):
        text = payload.decode("utf-8", errors="replace")
    return clean_text(text)


def sanitise_html(html: str) -> str:
    """Formatting and links only: no scripts, styles, event handlers or javascript: URLs."""
    return nh3.clean(
        html,
        tags=SAFE_TAGS,
        attributes=SAFE_ATTRIBUTES,
        url_schemes=SAFE_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag in BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_endtag(self, tag) -> None:
        if tag in BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_data(self, data) -> None:
        self.chunks.append(data)


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.chunks).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _leaf_parts(part: EmailMessage, depth: int = 0):
    """Every attachable part; an attached message stays whole instead of being descended."""
    if depth > MAX_MIME_DEPTH:
        return
    if part.is_multipart() and part.get_content_type() != "message/rfc822":
        for child in part.iter_parts():
            yield from _leaf_parts(child, depth + 1)
    else:
        yield part


def _attachments(
    msg: EmailMessage, body_part_ids: set[int], max_bytes: int
) -> tuple[list[ParsedAttachment], list[str]]:
    attachments, skipped = [], []
    for index, part in enumerate(_leaf_parts(msg), start=1):
        if id(part) in body_part_ids:
            continue
        content_type = clean_text(part.get_content_type())[:255]
        filename = safe_filename(_filename(part), content_type, index)
        content = _part_bytes(part)
        if content is None:
            skipped.append(f"{filename} (an attached message that cannot be re-encoded)")
            continue
        if len(content) > max_bytes:
            skipped.append(f"{filename} ({len(content)} bytes, over the {max_bytes} byte limit)")
            continue
        attachments.append(ParsedAttachment(filename, content_type, content))
    return attachments, skipped


def _filename(part: EmailMessage) -> str:
    try:
        return part.get_filename() or ""
    except Exception:  # a malformed Content-Disposition: the part is still worth keeping
        return ""


def _part_bytes(part: EmailMessage) -> bytes | None:
    if part.get_content_type() != "message/rfc822":
        return part.get_payload(decode=True) or b""
    try:
        return part.get_payload(0).as_bytes()
    except Exception:  # a broken attached message must not cost the mail around it
        return None


def safe_filename(name: str, content_type: str, index: int) -> str:
    """A storage-safe base name; a name that cleans to nothing gets one from the part."""
    base = clean_text(name).replace("\\", "/").rsplit("/", 1)[-1]
    base = UNSAFE_FILENAME_CHARS_RE.sub("_", base).strip(" .")
    if base:
        stem, dot, extension = base.rpartition(".")
        return f"{stem[:50]}.{extension[:10]}" if dot and stem else base[:60]
    extension = mimetypes.guess_extension(content_type) or ".bin"
    return f"attachment-{index}{extension}"
