"""OAuth2 client credentials (RFC 6749 §4.4) for partners: a token provider for Client."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from typing import Callable, Optional

from . import _http
from .errors import ProofgateError

__all__ = ["ClientCredentials"]


class ClientCredentials:
    """Fetches access tokens from the token endpoint (POST, grant_type=client_credentials, the
    client authenticated with HTTP Basic: client_secret_basic, RFC 6749 §2.3.1) and keeps each
    until `refresh_margin` seconds before its `expires_in` runs out. Thread-safe: concurrent
    callers share one fetch.

        tokens = ClientCredentials("https://verify.example/oauth/token", client_id, client_secret)
        client = Client("https://verify.example", token_provider=tokens)

    A refused token request raises ProofgateError whose error_code is the RFC 6749 §5.2 error
    ("invalid_client", "invalid_scope", ...).
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: Optional[str] = None,
        refresh_margin: float = 30.0,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        self.token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self.scope = scope
        self.refresh_margin = refresh_margin
        self.timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Optional[str] = None
        self._expires_at = 0.0

    def token(self) -> str:
        """A current access token: the cached one, or a new one."""
        with self._lock:
            if self._token is not None and self._clock() < self._expires_at:
                return self._token
            self._token, lifetime = self._fetch()
            # Never cache for less than nothing; a token shorter-lived than the margin is used once.
            self._expires_at = self._clock() + max(0.0, lifetime - self.refresh_margin)
            return self._token

    def invalidate(self) -> None:
        """Forget the cached token (the API answered 401): the next token() fetches one."""
        with self._lock:
            self._token = None
            self._expires_at = 0.0

    def _fetch(self):
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        # RFC 6749 §2.3.1: id and secret form-urlencoded, then Basic.
        pair = (urllib.parse.quote_plus(self._client_id, safe="") + ":" +
                urllib.parse.quote_plus(self._client_secret, safe=""))
        headers = {
            "Authorization": "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii"),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        body = urllib.parse.urlencode(form).encode("ascii")
        status, rh, data = _http.exchange("POST", self.token_url, body, headers, self.timeout)
        request_id = rh.get("x-request-id")
        try:
            answer = json.loads(data.decode("utf-8")) if data else {}
        except (UnicodeDecodeError, ValueError):
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if status != 200:
            raise ProofgateError(
                status,
                str(answer.get("error") or answer.get("error_code") or f"HTTP_{status}"),
                detail=str(answer.get("error_description") or answer.get("detail") or ""),
                request_id=request_id,
                problem=answer or None,
            )
        token = answer.get("access_token")
        token_type = str(answer.get("token_type", "")).lower()
        if not isinstance(token, str) or not token or token_type != "bearer":
            raise ProofgateError(status, "BAD_RESPONSE",
                                 detail="the token answer lacks a Bearer access_token",
                                 request_id=request_id)
        expires_in = answer.get("expires_in", 60)
        if not isinstance(expires_in, (int, float)) or isinstance(expires_in, bool) or expires_in < 0:
            raise ProofgateError(status, "BAD_RESPONSE", detail="expires_in is not a number of seconds",
                                 request_id=request_id)
        return token, float(expires_in)
