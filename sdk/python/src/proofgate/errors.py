"""Errors: the API's RFC 9457 problem answers as ProofgateError."""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional


class ProofgateError(Exception):
    """An answer that is not a success, or a call that never got one.

    status      the HTTP status (0 when no answer arrived: a connection error, a timeout)
    error_code  the problem's machine-readable code ("RATE_LIMITED", "INVALID_REQUEST", ...);
                for /oauth/token the RFC 6749 error ("invalid_client", ...); "NETWORK" when no
                answer arrived
    field       the member or header the problem names, when it names one
    detail      the human-readable explanation
    request_id  the server's X-Request-Id of the answer (quote it to support)
    retry_after the Retry-After the answer carried, in seconds, or None
    problem     the whole decoded problem body (a dict), or None
    """

    def __init__(
        self,
        status: int,
        error_code: str,
        field: Optional[str] = None,
        detail: str = "",
        request_id: Optional[str] = None,
        *,
        retry_after: Optional[float] = None,
        problem: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.field = field
        self.detail = detail
        self.request_id = request_id
        self.retry_after = retry_after
        self.problem = dict(problem) if problem is not None else None
        text = f"{error_code} ({status})" if status else error_code
        if detail:
            text += f": {detail}"
        super().__init__(text)

    @property
    def proof_id(self) -> Optional[str]:
        """The failed proof's id, on a verification rejected at the binding, root or proof."""
        return (self.problem or {}).get("proof_id")


def error_from_answer(
    status: int, body: bytes, request_id: Optional[str], retry_after: Optional[float]
) -> ProofgateError:
    """The ProofgateError of one non-2xx answer; a body that is not a problem still gives one."""
    problem: Optional[dict] = None
    try:
        decoded = json.loads(body.decode("utf-8")) if body else None
        if isinstance(decoded, dict):
            problem = decoded
    except (UnicodeDecodeError, ValueError):
        problem = None
    if problem is None:
        text = body[:200].decode("utf-8", "replace") if body else ""
        return ProofgateError(status, f"HTTP_{status}", detail=text, request_id=request_id,
                              retry_after=retry_after)
    code = problem.get("error_code") or problem.get("error") or f"HTTP_{status}"
    detail = problem.get("detail") or problem.get("error_description") or problem.get("title") or ""
    field = problem.get("field")
    return ProofgateError(
        status,
        str(code),
        field=str(field) if field is not None else None,
        detail=str(detail),
        request_id=request_id,
        retry_after=retry_after,
        problem=problem,
    )
