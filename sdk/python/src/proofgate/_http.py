"""One HTTP exchange over urllib, and the Retry-After and backoff arithmetic."""

from __future__ import annotations

import email.utils
import http.client
import socket
import time
import urllib.error
import urllib.request
from typing import Mapping, Optional, Tuple

from .errors import ProofgateError


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """The API never redirects; a 3xx is answered to the caller as it is."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401
        return None


_opener = urllib.request.build_opener(_NoRedirect())


class NetworkError(ProofgateError):
    """No answer: the connection was refused, reset or timed out. `sent` is False only when the
    request surely never reached the server (the connection was refused)."""

    def __init__(self, detail: str, *, sent: bool) -> None:
        super().__init__(0, "NETWORK", detail=detail)
        self.sent = sent


def exchange(
    method: str,
    url: str,
    body: Optional[bytes],
    headers: Mapping[str, str],
    timeout: float,
) -> Tuple[int, Mapping[str, str], bytes]:
    """(status, headers with lower-case names, body) of one request; NetworkError without one."""
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
    try:
        with _opener.open(req, timeout=timeout) as res:
            return res.status, _lower(res.headers), res.read()
    except urllib.error.HTTPError as e:
        try:
            data = e.read()
        except (OSError, http.client.HTTPException):
            data = b""
        return e.code, _lower(e.headers), data
    except urllib.error.URLError as e:
        refused = isinstance(e.reason, ConnectionRefusedError)
        raise NetworkError(f"{method} {url}: {e.reason}", sent=not refused) from e
    except (OSError, http.client.HTTPException, socket.timeout) as e:
        raise NetworkError(f"{method} {url}: {e!r}", sent=True) from e


def _lower(headers) -> Mapping[str, str]:
    if headers is None:
        return {}
    return {k.lower(): v for k, v in headers.items()}


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After value (RFC 9110 §10.2.3: delay-seconds or an
    HTTP-date), never negative; None when absent or malformed."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def backoff_delay(attempt: int, base: float, cap: float, rand: float) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)),
    `attempt` counting from 0 and `rand` uniform in [0, 1)."""
    return rand * min(cap, base * (2 ** attempt))
