"""proofgate: the partner SDK for the proofgate verification API (standard library only).

    from proofgate import Client, ProofgateError
    client = Client("https://verify.example", api_key="pg_live_...")
    request = client.create_request("age_over_18")      # request["qr"]["uri"] for the wallet
    result = client.verify(wallet_answer)               # {"status": "verified", ...}
"""

from .client import Client, Result, RetryPolicy
from .errors import ProofgateError
from .oauth import ClientCredentials
from .webhooks import (
    DEFAULT_TOLERANCE_SECONDS,
    Webhook,
    WebhookVerificationError,
    verify_sha256_signature,
    verify_webhook,
)
from ._http import NetworkError, parse_retry_after

__version__ = "0.1.0"

__all__ = [
    "Client",
    "ClientCredentials",
    "DEFAULT_TOLERANCE_SECONDS",
    "NetworkError",
    "ProofgateError",
    "Result",
    "RetryPolicy",
    "Webhook",
    "WebhookVerificationError",
    "parse_retry_after",
    "verify_sha256_signature",
    "verify_webhook",
]
