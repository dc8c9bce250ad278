"""The channels' transports: e-mail through SMTP (aiosmtplib), SMS and push as signed webhooks.

    Mailer         a small pool of SMTP connections (TLS / STARTTLS and credentials from the
                   settings), reused across messages; a broken connection is dropped and the
                   next message opens a new one
    ProviderHooks  SMS and push: one JSON POST per message to the provider's endpoint, signed
                   with Standard Webhooks headers by the suite's one webhook sender
                   (``relacja_webhooks.WebhookSender`` + ``sign_headers``)

Each ``send`` returns a :class:`Delivery`: sent (with the provider's id), or failed,
``permanent`` when trying again cannot help (the server refused the recipient).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from relacja_webhooks import UrlPolicy, WebhookSender, sign_headers

from ..settings import EngagementSettings

__all__ = ["Delivery", "Mailer", "Outgoing", "ProviderHooks"]


@dataclass(frozen=True)
class Outgoing:
    message_id: str
    channel: str
    address: str
    subject: str | None
    body: str


@dataclass(frozen=True)
class Delivery:
    sent: bool
    provider_id: str | None = None
    error: str | None = None
    permanent: bool = False


class Mailer:
    def __init__(self, settings: EngagementSettings) -> None:
        self._settings = settings
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(settings.smtp_connections)
        self._domain = settings.mail_from.rsplit("@", 1)[-1].rstrip(">").strip() or "relacja.local"

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self._settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_tls,
            start_tls=s.smtp_starttls,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            timeout=s.smtp_timeout_seconds,
        )
        await client.connect()
        return client

    def compose(self, outgoing: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self._settings.mail_from
        mail["To"] = outgoing.address
        mail["Subject"] = outgoing.subject or ""
        mail["Message-ID"] = make_msgid(idstring=outgoing.message_id.replace("-", ""), domain=self._domain)
        mail["X-Relacja-Message-Id"] = outgoing.message_id
        mail.set_content(outgoing.body)
        return mail

    async def send(self, outgoing: Outgoing) -> Delivery:
        mail = self.compose(outgoing)
        async with self._slots:
            client = self._idle.pop() if self._idle else None
            try:
                if client is None or not client.is_connected:
                    client = await self._connect()
                await client.send_message(mail)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                self._keep(client)
                return Delivery(False, error=f"recipient refused: {exc}"[:500], permanent=True)
            except aiosmtplib.SMTPResponseException as exc:
                self._keep(client)
                return Delivery(False, error=f"{exc.code} {exc.message}"[:500], permanent=500 <= exc.code < 600)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                await self._drop(client)
                return Delivery(False, error=f"{type(exc).__name__}: {exc}"[:500])
            self._keep(client)
            return Delivery(True, provider_id=str(mail["Message-ID"]))

    def _keep(self, client: aiosmtplib.SMTP | None) -> None:
        if client is not None and client.is_connected:
            self._idle.append(client)

    @staticmethod
    async def _drop(client: aiosmtplib.SMTP | None) -> None:
        # Closing a broken connection may fail too; it is gone either way.
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    async def aclose(self) -> None:
        while self._idle:
            client = self._idle.pop()
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()


class ProviderHooks:
    """SMS and push through the provider's webhook endpoint (one signed POST per message)."""

    def __init__(self, settings: EngagementSettings) -> None:
        self._settings = settings
        self._sender = WebhookSender(
            UrlPolicy(allow_http=settings.webhook_allow_http, allow_loopback=settings.webhook_allow_loopback)
        )

    async def send(self, outgoing: Outgoing) -> Delivery:
        s = self._settings
        url = s.sms_webhook_url if outgoing.channel == "sms" else s.push_webhook_url
        if not url or s.provider_webhook_secret is None:
            return Delivery(False, error=f"no {outgoing.channel} provider configured", permanent=True)
        body = json.dumps(
            {
                "type": f"message.{outgoing.channel}",
                "message_id": outgoing.message_id,
                "to": outgoing.address,
                "title": outgoing.subject,
                "text": outgoing.body,
            }
        ).encode()
        headers = sign_headers(
            outgoing.message_id, datetime.now(UTC), body, [s.provider_webhook_secret.get_secret_value()]
        )
        result = await self._sender.send(url, headers, body)
        if result.status_code is not None and 200 <= result.status_code < 300:
            return Delivery(True, provider_id=outgoing.message_id)
        error = result.error or f"HTTP {result.status_code}: {result.response_excerpt or ''}"[:500]
        permanent = result.status_code is not None and result.status_code in (400, 404, 410, 422)
        return Delivery(False, error=error, permanent=permanent)

    async def aclose(self) -> None:
        await self._sender.aclose()
