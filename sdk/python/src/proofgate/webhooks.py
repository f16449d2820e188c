"""Webhook signature verification.

proofgate signs every delivery twice (docs/webhooks.md):
  - Standard Webhooks: `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`,
    space-separated entries "v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>",
    one per live secret (two during a rotation's overlap); key = base64-decode of the secret after
    "whsec_". This covers the timestamp, so a replayed old delivery is refused: prefer it.
  - `X-Proofgate-Signature`: comma-separated "sha256=<hex HMAC-SHA256(key, body)>", same key;
    it covers the body alone.
Both are compared in constant time (hmac.compare_digest) against every entry, over the raw body
bytes as received (never re-serialised JSON).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Union

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "WebhookVerificationError",
    "Webhook",
    "verify_webhook",
    "verify_sha256_signature",
]

DEFAULT_TOLERANCE_SECONDS = 300
_PREFIX = "whsec_"
_MIN_KEY_BYTES = 24

Secrets = Union[str, Sequence[str]]


class WebhookVerificationError(Exception):
    """The delivery is not proven to come from proofgate: refuse it (answer 400)."""


def _key(secret: str) -> bytes:
    if not isinstance(secret, str) or not secret.startswith(_PREFIX):
        raise ValueError("a webhook secret starts with 'whsec_'")
    try:
        key = base64.b64decode(secret[len(_PREFIX):], validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError("the webhook secret's base64 is malformed") from e
    if len(key) < _MIN_KEY_BYTES:
        raise ValueError("the webhook secret is too short")
    return key


def _keys(secrets: Secrets) -> list:
    items = [secrets] if isinstance(secrets, str) else list(secrets)
    if not items:
        raise ValueError("no webhook secret given")
    return [_key(s) for s in items]


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    wanted = name.lower()
    for k, v in headers.items():
        if k.lower() == wanted:
            return v
    return None


def _body_bytes(body: Union[bytes, bytearray, str]) -> bytes:
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    raise TypeError("the body must be the raw bytes received")


class Webhook:
    """A receiver's verifier: `Webhook(secret).verify(body, headers)` returns the event (a dict)
    or raises WebhookVerificationError. `secret` may be a list (during a rotation, accept either).
    """

    def __init__(self, secret: Secrets, *, tolerance: int = DEFAULT_TOLERANCE_SECONDS) -> None:
        self._keys = _keys(secret)
        self.tolerance = tolerance

    def verify(self, body: Union[bytes, str], headers: Mapping[str, str],
               *, now: Optional[float] = None) -> Dict[str, Any]:
        raw = _body_bytes(body)
        msg_id = _header(headers, "webhook-id")
        timestamp = _header(headers, "webhook-timestamp")
        signature = _header(headers, "webhook-signature")
        if not msg_id or not timestamp or not signature:
            raise WebhookVerificationError(
                "missing webhook-id, webhook-timestamp or webhook-signature header")
        ts = timestamp.strip()
        if not ts.isdigit() or len(ts) > 12:
            raise WebhookVerificationError("webhook-timestamp is not Unix seconds")
        current = time.time() if now is None else now
        if abs(current - int(ts)) > self.tolerance:
            raise WebhookVerificationError(
                f"webhook-timestamp is more than {self.tolerance} s from this clock")
        content = msg_id.encode("utf-8") + b"." + ts.encode("ascii") + b"." + raw
        expected = [base64.b64encode(hmac.new(k, content, hashlib.sha256).digest())
                    for k in self._keys]
        matched = False
        for entry in signature.split(" "):
            version, sep, value = entry.partition(",")
            if version != "v1" or not sep:
                continue
            candidate = value.encode("ascii", "replace")
            for e in expected:
                # Every comparison runs: the time taken does not say which entry matched.
                matched |= hmac.compare_digest(e, candidate)
        if not matched:
            raise WebhookVerificationError("no webhook-signature entry matches")
        return _event(raw)

    def verify_sha256(self, body: Union[bytes, str], headers: Mapping[str, str]) -> Dict[str, Any]:
        """The body-only `X-Proofgate-Signature: sha256=<hex>` check (no timestamp: prefer
        verify)."""
        raw = _body_bytes(body)
        header = _header(headers, "x-proofgate-signature")
        if not header:
            raise WebhookVerificationError("missing X-Proofgate-Signature header")
        if not _sha256_matches(self._keys, header, raw):
            raise WebhookVerificationError("no X-Proofgate-Signature entry matches")
        return _event(raw)


def _sha256_matches(keys: Iterable[bytes], header: str, raw: bytes) -> bool:
    expected = [("sha256=" + hmac.new(k, raw, hashlib.sha256).hexdigest()).encode("ascii")
                for k in keys]
    matched = False
    for entry in header.split(","):
        candidate = entry.strip().lower().encode("ascii", "replace")
        for e in expected:
            matched |= hmac.compare_digest(e, candidate)
    return matched


def _event(raw: bytes) -> Dict[str, Any]:
    try:
        event = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise WebhookVerificationError("the signed body is not JSON") from e
    if not isinstance(event, dict):
        raise WebhookVerificationError("the signed body is not a JSON object")
    return event


def verify_webhook(secret: Secrets, headers: Mapping[str, str], body: Union[bytes, str], *,
                   tolerance: int = DEFAULT_TOLERANCE_SECONDS,
                   now: Optional[float] = None) -> Dict[str, Any]:
    """Standard Webhooks verification of one delivery; the event, or WebhookVerificationError."""
    return Webhook(secret, tolerance=tolerance).verify(body, headers, now=now)


def verify_sha256_signature(secret: Secrets, header: str, body: Union[bytes, str]) -> bool:
    """True when one entry of an `X-Proofgate-Signature` value matches the body."""
    return _sha256_matches(_keys(secret), header or "", _body_bytes(body))
