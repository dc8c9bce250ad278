"""Signing: the headers verify with the ``standardwebhooks`` library, a rotation's old and new
secrets both verify during the overlap and only the new one after it, bad secrets are refused."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from relacja_webhooks.signing import (
    InvalidSecretError,
    check_secret,
    new_secret,
    sign_headers,
    signing_secrets,
)

BODY = b'{"type":"relacja.orders.order.placed.v1","data":{"total":"12.50"}}'


def test_new_secrets_are_whsec_base64_of_at_least_24_random_bytes() -> None:
    a, b = new_secret(), new_secret()
    assert a != b
    for secret in (a, b):
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
        assert check_secret(secret) == secret


@pytest.mark.parametrize(
    "secret",
    ["abc", "whsec_", "whsec_!!notbase64!!", "whsec_" + base64.b64encode(b"x" * 23).decode()],
)
def test_a_secret_that_is_not_whsec_base64_of_24_bytes_is_refused(secret: str) -> None:
    with pytest.raises(InvalidSecretError):
        check_secret(secret)


def test_headers_verify_with_the_standardwebhooks_library() -> None:
    secret = new_secret()
    now = datetime.now(UTC)
    headers = sign_headers("msg_1", now, BODY, [secret])

    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, dict(headers)) == {
        "type": "relacja.orders.order.placed.v1",
        "data": {"total": "12.50"},
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, dict(headers))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY + b" ", dict(headers))


def test_during_a_rotation_both_secrets_verify_and_after_it_only_the_new_one() -> None:
    old, new = new_secret(), new_secret()
    rotated_at = datetime.now(UTC)
    expires = rotated_at + timedelta(hours=24)

    during = signing_secrets(new, old, expires, rotated_at + timedelta(hours=23))
    assert during == [new, old]
    headers = sign_headers("msg_2", datetime.now(UTC), BODY, during)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, dict(headers))
    Webhook(new).verify(BODY, dict(headers))

    after = signing_secrets(new, old, expires, rotated_at + timedelta(hours=24))
    assert after == [new]
    headers = sign_headers("msg_3", datetime.now(UTC), BODY, after)
    Webhook(new).verify(BODY, dict(headers))
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(BODY, dict(headers))


def test_signing_needs_a_secret() -> None:
    with pytest.raises(InvalidSecretError):
        sign_headers("msg_4", datetime.now(UTC), BODY, [])
