"""A local SMTP server (aiosmtpd) that keeps every message it receives, for the tests of
`shopflow export --mail`; it can also refuse every message with an SMTP error."""

from __future__ import annotations

import email
import email.message
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.ports import free_port


@dataclass
class Mailbox:
    """What the server received, and the URL (apprise ``mailto://``) that sends to it."""

    url: str
    messages: list[email.message.Message] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    def attachments(self, index: int = 0) -> dict[str, bytes]:
        """File name -> bytes of every attachment of one message."""
        found: dict[str, bytes] = {}
        for part in self.messages[index].walk():
            name = part.get_filename()
            if name:
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                found[name] = payload
        return found


class _Handler:
    def __init__(self, box: Mailbox, reply: str) -> None:
        self.box = box
        self.reply = reply

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.reply.startswith("250"):
            assert isinstance(envelope.content, bytes)
            self.box.messages.append(email.message_from_bytes(envelope.content))
            self.box.recipients.append(list(envelope.rcpt_tos))
        return self.reply


@contextmanager
def smtp_server(reply: str = "250 OK", to: str = "finance@example.com") -> Iterator[Mailbox]:
    """A server on a free port of 127.0.0.1 answering every message with ``reply``."""
    port = free_port()
    box = Mailbox(url=f"mailto://127.0.0.1:{port}/?from=shopflow@example.com&to={to}")
    controller = Controller(_Handler(box, reply), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
