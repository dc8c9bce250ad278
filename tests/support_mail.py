"""Reading what the local SMTP sink received (``<state>/mail/*.eml``, see relacja_devstack.smtp_sink).

The sink renames each message into place only once it is complete, so every ``.eml``
listed here is whole. File names start with the receipt time in nanoseconds, so sorting
by name is the order of arrival. The envelope is in the ``X-MailFrom`` / ``X-RcptTo``
headers the sink prepends.

    mail = await wait_for_mail(stack.mail_dir, lambda m: m["To"] == "ada@example.com")
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

__all__ = ["mail_body", "read_mail", "wait_for_mail"]


def read_mail(mail_dir: Path) -> list[EmailMessage]:
    """Every message in the sink's folder, oldest first ([] when the folder does not exist yet)."""
    if not mail_dir.is_dir():
        return []
    messages = []
    for path in sorted(mail_dir.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)  # policy.default parses into EmailMessage
        messages.append(message)
    return messages


async def wait_for_mail(
    mail_dir: Path,
    predicate: Callable[[EmailMessage], bool],
    timeout: float = 60,
    interval: float = 0.2,
) -> EmailMessage:
    """The first message (in order of arrival) matching ``predicate``; AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        matching = [m for m in read_mail(mail_dir) if predicate(m)]
        if matching:
            return matching[0]
        if time.monotonic() > deadline:
            seen = [(m["To"], m["Subject"]) for m in read_mail(mail_dir)]
            raise AssertionError(f"no matching mail in {mail_dir} within {timeout}s; the sink holds {seen!r}")
        await asyncio.sleep(interval)


def mail_body(message: EmailMessage, preferred: tuple[str, ...] = ("plain", "html")) -> str:
    """The text of the message's preferred body part (plain text first)."""
    part = message.get_body(preferencelist=preferred)
    if part is None:
        raise AssertionError(f"message {message['Subject']!r} has no {'/'.join(preferred)} body")
    content = part.get_content()
    assert isinstance(content, str)
    return content
