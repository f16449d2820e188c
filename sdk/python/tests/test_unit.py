"""Unit tests of the Python SDK: webhook signatures (the Standard Webhooks test vector, tampering,
the timestamp window, rotation), Retry-After and backoff arithmetic, the retry loop's bounds, and
the OAuth2 client-credentials provider against a local token endpoint stub."""

import base64
import email.utils
import hashlib
import hmac
import http.server
import json
import threading
import time
import unittest

import proofgate
from proofgate import (
    Client,
    ClientCredentials,
    ProofgateError,
    RetryPolicy,
    Webhook,
    WebhookVerificationError,
    parse_retry_after,
    verify_sha256_signature,
    verify_webhook,
)
from proofgate._http import backoff_delay

# The Standard Webhooks specification's test vector (as tests/webhooks/signer_test.cpp).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TS = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers(sig=SIGNATURE, ts=TS, msg_id=MSG_ID):
    return {"Webhook-Id": msg_id, "Webhook-Timestamp": str(ts), "Webhook-Signature": sig}


class WebhookTest(unittest.TestCase):
    def test_the_specification_vector_verifies(self):
        self.assertEqual(verify_webhook(SECRET, headers(), BODY, now=TS), {"test": 2432232314})

    def test_any_change_is_refused(self):
        cases = {
            "body": (headers(), b'{"test": 2432232315}'),
            "id": (headers(msg_id="msg_other"), BODY),
            "signature": (headers(sig=SIGNATURE.replace("g0h", "g0i")), BODY),
            "version": (headers(sig=SIGNATURE.replace("v1,", "v2,")), BODY),
            "timestamp": (headers(ts=TS + 1), BODY),
        }
        for what, (h, body) in cases.items():
            with self.subTest(what), self.assertRaises(WebhookVerificationError):
                verify_webhook(SECRET, h, body, now=TS)

    def test_timestamp_tolerance(self):
        verify_webhook(SECRET, headers(), BODY, now=TS + 300)
        verify_webhook(SECRET, headers(), BODY, now=TS - 300)
        for now in (TS + 301, TS - 301):
            with self.subTest(now=now), self.assertRaises(WebhookVerificationError):
                verify_webhook(SECRET, headers(), BODY, now=now)
        verify_webhook(SECRET, headers(), BODY, now=TS + 1000, tolerance=1000)

    def test_missing_headers_are_refused(self):
        for drop in ("Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"):
            h = headers()
            del h[drop]
            with self.subTest(drop), self.assertRaises(WebhookVerificationError):
                verify_webhook(SECRET, h, BODY, now=TS)

    def test_one_matching_entry_of_several_and_rotated_secrets(self):
        other = "whsec_" + base64.b64encode(b"k" * 32).decode()
        two = "v1,AAAA" + " " + SIGNATURE
        self.assertEqual(verify_webhook(SECRET, headers(sig=two), BODY, now=TS)["test"], 2432232314)
        # The receiver holds the new and the old secret during a rotation.
        Webhook([other, SECRET]).verify(BODY, headers(), now=TS)
        with self.assertRaises(WebhookVerificationError):
            Webhook(other).verify(BODY, headers(), now=TS)

    def test_sha256_header(self):
        key = base64.b64decode(SECRET[len("whsec_"):])
        good = "sha256=" + hmac.new(key, BODY, hashlib.sha256).hexdigest()
        self.assertTrue(verify_sha256_signature(SECRET, good, BODY))
        self.assertTrue(verify_sha256_signature(SECRET, "sha256=00," + good, BODY))
        self.assertFalse(verify_sha256_signature(SECRET, good, BODY + b" "))
        self.assertFalse(verify_sha256_signature(SECRET, "", BODY))
        self.assertEqual(Webhook(SECRET).verify_sha256(BODY, {"X-Proofgate-Signature": good}),
                         {"test": 2432232314})

    def test_bad_secrets_are_refused(self):
        for bad in ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!", "whsec_" + base64.b64encode(b"x" * 8).decode()):
            with self.subTest(bad), self.assertRaises(ValueError):
                Webhook(bad)


class RetryArithmeticTest(unittest.TestCase):
    def test_retry_after_seconds_and_dates(self):
        self.assertEqual(parse_retry_after("3"), 3.0)
        self.assertEqual(parse_retry_after(" 0 "), 0.0)
        self.assertIsNone(parse_retry_after(None))
        self.assertIsNone(parse_retry_after("soon"))
        self.assertIsNone(parse_retry_after("-1"))
        now = 1_800_000_000.0
        date = email.utils.formatdate(now + 7, usegmt=True)
        self.assertAlmostEqual(parse_retry_after(date, now=now), 7.0, places=3)
        past = email.utils.formatdate(now - 60, usegmt=True)
        self.assertEqual(parse_retry_after(past, now=now), 0.0)

    def test_full_jitter_is_bounded_by_the_exponential_cap(self):
        self.assertEqual(backoff_delay(0, 0.25, 8.0, 0.0), 0.0)
        self.assertAlmostEqual(backoff_delay(0, 0.25, 8.0, 0.999), 0.24975)
        self.assertAlmostEqual(backoff_delay(3, 0.25, 8.0, 0.5), 1.0)
        self.assertAlmostEqual(backoff_delay(20, 0.25, 8.0, 0.5), 4.0)


class Stub:
    """A tiny local HTTP server: `routes[(method, path)]` is a list of (status, headers, body)
    answers used in turn (the last one repeats); every request is recorded."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                stub.requests.append((self.command, self.path, dict(self.headers), body))
                answers = stub.routes.get((self.command, self.path))
                if not answers:
                    status, hdrs, out = 404, {}, b'{"error_code":"NOT_FOUND","status":404}'
                else:
                    status, hdrs, out = answers[0] if len(answers) == 1 else answers.pop(0)
                self.send_response(status)
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = _answer
            do_POST = _answer

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def token_answer(token, expires_in=300):
    return (200, {"Content-Type": "application/json", "Cache-Control": "no-store"},
            json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": expires_in,
                        "scope": "age_over_18"}).encode())


class ClientCredentialsTest(unittest.TestCase):
    def setUp(self):
        self.stub = Stub()
        self.now = 1000.0

    def tearDown(self):
        self.stub.close()

    def provider(self, **kw):
        return ClientCredentials(self.stub.url + "/oauth/token", "pgc_id:1", "s3cr3t/+", clock=lambda: self.now, **kw)

    def token_requests(self):
        return [r for r in self.stub.requests if r[1] == "/oauth/token"]

    def test_client_secret_basic_and_the_form(self):
        self.stub.routes[("POST", "/oauth/token")] = [token_answer("t1")]
        self.assertEqual(self.provider(scope="age_over_18").token(), "t1")
        (_, _, hdrs, body), = self.token_requests()
        # RFC 6749 §2.3.1: form-urlencoded id and secret, then Basic.
        expected = base64.b64encode(b"pgc_id%3A1:s3cr3t%2F%2B").decode()
        self.assertEqual(hdrs["Authorization"], "Basic " + expected)
        self.assertEqual(hdrs["Content-Type"], "application/x-www-form-urlencoded")
        self.assertEqual(body, b"grant_type=client_credentials&scope=age_over_18")

    def test_cached_until_shortly_before_expiry(self):
        self.stub.routes[("POST", "/oauth/token")] = [token_answer("t1", 300), token_answer("t2", 300)]
        p = self.provider(refresh_margin=30)
        self.assertEqual(p.token(), "t1")
        self.now += 269
        self.assertEqual(p.token(), "t1")
        self.assertEqual(len(self.token_requests()), 1)
        self.now += 2  # 271 s: within the 30 s margin before expires_in
        self.assertEqual(p.token(), "t2")
        self.assertEqual(len(self.token_requests()), 2)

    def test_token_errors_are_typed(self):
        self.stub.routes[("POST", "/oauth/token")] = [(401, {"Content-Type": "application/json"},
            b'{"error":"invalid_client","error_description":"client authentication failed"}')]
        with self.assertRaises(ProofgateError) as cm:
            self.provider().token()
        self.assertEqual(cm.exception.status, 401)
        self.assertEqual(cm.exception.error_code, "invalid_client")
        self.assertIn("authentication failed", cm.exception.detail)

    def test_a_malformed_token_answer_is_refused(self):
        self.stub.routes[("POST", "/oauth/token")] = [(200, {}, b'{"access_token":"x","token_type":"mac"}')]
        with self.assertRaises(ProofgateError) as cm:
            self.provider().token()
        self.assertEqual(cm.exception.error_code, "BAD_RESPONSE")

    def test_the_client_sends_the_token_and_refreshes_once_on_401(self):
        self.stub.routes[("POST", "/oauth/token")] = [token_answer("old"), token_answer("new")]
        unauthorized = (401, {"Content-Type": "application/problem+json", "WWW-Authenticate": "Bearer"},
                        b'{"status":401,"error_code":"UNAUTHORIZED","detail":"the token expired"}')
        ok = (200, {"Content-Type": "application/json"}, b'{"proof_id":"p1","status":"verified"}')
        self.stub.routes[("GET", "/api/v1/status/p1")] = [unauthorized, ok]
        client = Client(self.stub.url, token_provider=self.provider())
        self.assertEqual(client.status("p1")["status"], "verified")
        auths = [r[2]["Authorization"] for r in self.stub.requests if r[1] == "/api/v1/status/p1"]
        self.assertEqual(auths, ["Bearer old", "Bearer new"])
        # Only once: a second 401 is the caller's error.
        self.stub.routes[("GET", "/api/v1/status/p2")] = [unauthorized]
        with self.assertRaises(ProofgateError) as cm:
            client.status("p2")
        self.assertEqual(cm.exception.error_code, "UNAUTHORIZED")
        self.assertEqual(len(self.token_requests()), 3)


class RetryLoopTest(unittest.TestCase):
    """The loop's bounds against a stub (the real server's 429 is in test_server.py)."""

    def setUp(self):
        self.stub = Stub()
        self.sleeps = []

    def tearDown(self):
        self.stub.close()

    def client(self, **kw):
        return Client(self.stub.url, api_key="pgk_test", sleep=self.sleeps.append, random=lambda: 0.5, **kw)

    def test_503_retried_then_bounded(self):
        busy = (503, {"Retry-After": "1"}, b'{"status":503,"error_code":"NOT_READY","detail":"busy"}')
        self.stub.routes[("GET", "/api/v1/status/x")] = [busy]
        with self.assertRaises(ProofgateError) as cm:
            self.client(retry=RetryPolicy(max_attempts=3)).status("x")
        self.assertEqual(cm.exception.error_code, "NOT_READY")
        self.assertEqual(cm.exception.retry_after, 1.0)
        self.assertEqual(len(self.stub.requests), 3)
        self.assertEqual(self.sleeps, [1.0, 1.0])

    def test_a_long_retry_after_is_not_waited_for(self):
        self.stub.routes[("GET", "/api/v1/status/x")] = [(429, {"Retry-After": "3600"}, b'{"error_code":"RATE_LIMITED"}')]
        with self.assertRaises(ProofgateError) as cm:
            self.client().status("x")
        self.assertEqual(cm.exception.status, 429)
        self.assertEqual(self.sleeps, [])

    def test_verify_reuses_its_idempotency_key_and_create_is_not_repeated_after_a_400(self):
        busy = (503, {}, b'{"error_code":"NOT_READY"}')
        ok = (200, {"Idempotent-Replayed": "true"}, b'{"status":"verified","proof_id":"p"}')
        self.stub.routes[("POST", "/api/v1/verify")] = [busy, busy, ok]
        result = self.client().verify({"claim_type": "age_over_18"})
        self.assertEqual(result["proof_id"], "p")
        self.assertTrue(result.replayed)
        keys = [r[2]["Idempotency-Key"] for r in self.stub.requests]
        self.assertEqual(len(keys), 3)
        self.assertEqual(len(set(keys)), 1)
        # Full jitter with random 0.5: 0.5 * 0.25 * 2**n.
        self.assertEqual(self.sleeps, [0.125, 0.25])
        self.stub.routes[("POST", "/api/v1/requests")] = [(400, {"X-Request-Id": "rid"},
            b'{"error_code":"INVALID_REQUEST","field":"claim_type","detail":"claim_type: unknown"}')]
        with self.assertRaises(ProofgateError) as cm:
            self.client().create_request("nope")
        self.assertEqual((cm.exception.field, cm.exception.request_id), ("claim_type", "rid"))
        self.assertEqual(len([r for r in self.stub.requests if r[1] == "/api/v1/requests"]), 1)

    def test_connection_refused_is_retried_and_typed(self):
        self.stub.close()
        with self.assertRaises(proofgate.NetworkError) as cm:
            self.client(retry=RetryPolicy(max_attempts=2)).create_request("age_over_18")
        self.assertEqual(cm.exception.error_code, "NETWORK")
        self.assertFalse(cm.exception.sent)
        self.assertEqual(len(self.sleeps), 1)
        self.stub = Stub()  # tearDown closes it

    def test_the_error_type(self):
        e = ProofgateError(400, "INVALID_REQUEST", "ttl_seconds", "ttl_seconds: at most 3600", "rid")
        self.assertEqual((e.status, e.error_code, e.field, e.detail, e.request_id),
                         (400, "INVALID_REQUEST", "ttl_seconds", "ttl_seconds: at most 3600", "rid"))
        self.assertEqual(str(e), "INVALID_REQUEST (400): ttl_seconds: at most 3600")
        self.assertIsInstance(proofgate.NetworkError("refused", sent=False), ProofgateError)

    def test_constructor_checks(self):
        with self.assertRaises(ValueError):
            Client("http://x")
        with self.assertRaises(ValueError):
            Client("ftp://x", api_key="k")
        with self.assertRaises(ValueError):
            Client("http://x", api_key="k", token_provider=object())
        with self.assertRaises(ValueError):
            Client("http://x", api_key="k").verify({}, idempotency_key="a b")


if __name__ == "__main__":
    unittest.main()
