"""Raw RFC 822 messages for the email tests, built the way mail clients build them."""

from email import message_from_bytes, policy
from email.message import EmailMessage

SUPPORT_ADDRESS = "support@helpdesk.example.com"


def raw_email(
    *,
    sender: str | None = "Ann Customer <ann@example.com>",
    subject: str = "Printer on fire",
    body: str = "The printer is on fire.",
    html: str | None = None,
    message_id: str | None = "<first@mail.example.com>",
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: tuple[tuple[str, bytes, str], ...] = (),
) -> bytes:
    msg = EmailMessage()
    if sender:
        msg["From"] = sender
    msg["To"] = SUPPORT_ADDRESS
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, content, content_type in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def reply_to(sent_raw: bytes, *, body: str = "Thanks, that worked.", **kwargs) -> bytes:
    """The customer's answer to a message we sent: the threading headers a mail client sets."""
    sent = message_from_bytes(sent_raw, policy=policy.default)
    references = " ".join(filter(None, [sent.get("References"), sent["Message-ID"]]))
    return raw_email(
        subject=f"Re: {sent['Subject']}",
        body=body,
        in_reply_to=sent["Message-ID"],
        references=references,
        **kwargs,
    )
