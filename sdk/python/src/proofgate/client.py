"""The partner API client: proof requests, verification, status."""

from __future__ import annotations

import json
import random
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Union

from . import _http
from .errors import ProofgateError, error_from_answer

__all__ = ["Client", "Result", "RetryPolicy"]


class Result(dict):
    """An answer's JSON object (a dict), with `request_id` (the answer's X-Request-Id) and
    `replayed` (True when verify answered the stored verdict of an earlier call with the same
    Idempotency-Key: Idempotent-Replayed)."""

    request_id: Optional[str] = None
    replayed: bool = False

_RETRY_STATUSES = (429, 503)
_USER_AGENT = "proofgate-python/0.1.0"


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long a call is tried again.

    A call is retried after a 429 or a 503 answer, and after a connection error when repeating it
    is safe (status; verify, whose Idempotency-Key makes a repeat answer the first result;
    create_request only when the connection was refused, so nothing reached the server). The
    wait before retry n (from 0) is uniform in [0, min(max_delay, base_delay * 2**n)) ("full
    jitter"), and never shorter than the answer's Retry-After. At most `max_attempts` tries in
    all; no retry whose wait would end more than `max_elapsed` seconds after the first try began,
    and none when Retry-After asks for more than `max_retry_after` seconds: the error is raised.
    """

    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    max_elapsed: float = 120.0


class Client:
    """A partner's client of one proofgate server.

    Exactly one of `api_key` (a "pg_live_..." or "pg_test_..." key: `Authorization: Bearer <key>`) and
    `token_provider` (an object with `token() -> str` and `invalidate()`, such as
    proofgate.ClientCredentials: its access token is sent, and after a 401 a new one is fetched
    and the call made once more) authenticates.

    `on_retry(attempt, delay_seconds, error)` is called before each wait (attempt counts from 1).
    `sleep` and `random` may be replaced (tests).
    """

    def __init__(
        self,
        base_url: str,
        api_key: Optional[str] = None,
        *,
        token_provider: Any = None,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        on_retry: Optional[Callable[[int, float, ProofgateError], None]] = None,
        user_agent: str = _USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = random.random,
    ) -> None:
        if (api_key is None) == (token_provider is None):
            raise ValueError("give exactly one of api_key and token_provider")
        if api_key is not None and not api_key.strip():
            raise ValueError("api_key is empty")
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._token_provider = token_provider
        self.timeout = timeout
        self.retry = retry
        self._on_retry = on_retry
        self._user_agent = user_agent
        self._sleep = sleep
        self._random = random

    # -- the API ---------------------------------------------------------------------------

    def create_request(
        self,
        claim_type: str,
        *,
        circuit_version: Optional[str] = None,
        verifier_domain: Optional[str] = None,
        params: Optional[Mapping[str, Any]] = None,
        ttl_seconds: Optional[int] = None,
    ) -> Result:
        """POST /api/v1/requests. The answer: request_id, nonce, claim_type, circuit_version,
        verifier_domain, params, expires_at and qr ({"uri", "svg"}) for the wallet."""
        body: Dict[str, Any] = {"claim_type": claim_type}
        if circuit_version is not None:
            body["circuit_version"] = circuit_version
        if verifier_domain is not None:
            body["verifier_domain"] = verifier_domain
        if params is not None:
            body["params"] = dict(params)
        if ttl_seconds is not None:
            body["ttl_seconds"] = ttl_seconds
        return self._call("POST", "/api/v1/requests", body=_json_bytes(body), repeatable=False)

    def verify(
        self,
        proof: Union[Mapping[str, Any], str, bytes],
        *,
        idempotency_key: Optional[str] = None,
    ) -> Result:
        """POST /api/v1/verify with the wallet's answer (a dict, or its JSON text as the wallet
        printed it). An Idempotency-Key (a new UUID unless given) is sent and reused by every
        retry of this call, so a retry after a lost answer gets the first verdict, never a
        NONCE_REPLAY. A rejected proof raises ProofgateError (its `proof_id` names the failed
        attempt)."""
        if isinstance(proof, (bytes, bytearray)):
            body = bytes(proof)
        elif isinstance(proof, str):
            body = proof.encode("utf-8")
        else:
            body = _json_bytes(proof)
        key = idempotency_key if idempotency_key is not None else str(uuid.uuid4())
        if not (1 <= len(key) <= 255) or not all(0x21 <= ord(c) <= 0x7E for c in key):
            raise ValueError("idempotency_key must be 1-255 printable ASCII characters")
        return self._call("POST", "/api/v1/verify", body=body, repeatable=True,
                          headers={"Idempotency-Key": key})

    def status(self, proof_id: str) -> Result:
        """GET /api/v1/status/{proof_id}: proof_id, status, claim_type, circuit_version,
        created_at, verified_at."""
        if not proof_id:
            raise ValueError("proof_id is empty")
        path = "/api/v1/status/" + urllib.parse.quote(proof_id, safe="")
        return self._call("GET", path, body=None, repeatable=True)

    # -- the transport ---------------------------------------------------------------------

    def _auth(self) -> str:
        if self._token_provider is not None:
            return "Bearer " + self._token_provider.token()
        return "Bearer " + str(self._api_key)

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Optional[bytes],
        repeatable: bool,
        headers: Optional[Mapping[str, str]] = None,
    ) -> Result:
        policy = self.retry
        started = time.monotonic()
        attempt = 0
        refreshed = False
        while True:
            h = {"Accept": "application/json, application/problem+json",
                 "User-Agent": self._user_agent, "Authorization": self._auth()}
            if body is not None:
                h["Content-Type"] = "application/json"
            h.update(headers or {})
            try:
                status, rh, data = _http.exchange(method, self.base_url + path, body, h, self.timeout)
            except _http.NetworkError as e:
                error: ProofgateError = e
                retryable = repeatable or not e.sent
                retry_after = None
            else:
                if 200 <= status < 300:
                    result = Result(_decode(data, status, rh.get("x-request-id")))
                    result.request_id = rh.get("x-request-id")
                    result.replayed = rh.get("idempotent-replayed", "").lower() == "true"
                    return result
                retry_after = _http.parse_retry_after(rh.get("retry-after"))
                error = error_from_answer(status, data, rh.get("x-request-id"), retry_after)
                if status == 401 and self._token_provider is not None and not refreshed:
                    # The token may have expired or been revoked early: one new token, once.
                    refreshed = True
                    self._token_provider.invalidate()
                    continue
                retryable = status in _RETRY_STATUSES
            attempt += 1
            if not retryable or attempt >= policy.max_attempts:
                raise error
            if retry_after is not None and retry_after > policy.max_retry_after:
                raise error
            delay = _http.backoff_delay(attempt - 1, policy.base_delay, policy.max_delay,
                                        self._random())
            if retry_after is not None:
                delay = max(delay, retry_after)
            if time.monotonic() - started + delay > policy.max_elapsed:
                raise error
            if self._on_retry is not None:
                self._on_retry(attempt, delay, error)
            self._sleep(delay)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _decode(data: bytes, status: int, request_id: Optional[str]) -> Dict[str, Any]:
    try:
        decoded = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ProofgateError(status, "BAD_RESPONSE", detail=f"the answer is not JSON: {e}",
                             request_id=request_id) from e
    if not isinstance(decoded, dict):
        raise ProofgateError(status, "BAD_RESPONSE", detail="the answer is not a JSON object",
                             request_id=request_id)
    return decoded
