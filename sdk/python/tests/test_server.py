"""The Python SDK against a real `proofgate serve --demo` (tests/sdk/harness.mjs starts it):
a request created and a wallet-made proof verified through the SDK, its status read, the
webhook the server's worker delivers verified (a tampered copy refused), a typed error for a bad
request, and a 429 from the partner rate limit retried after its Retry-After.

Needs PROOFGATE_BIN and PROOFGATE_ARTIFACTS (as tests/integration/*), node, and the repository's
node_modules. Skipped unless PROOFGATE_BIN is set."""

import http.server
import json
import os
import pathlib
import queue
import subprocess
import threading
import time
import unittest

import proofgate
from proofgate import (ClientCredentials, Client, ProofgateError, RetryPolicy, Webhook,
                       WebhookVerificationError)

ROOT = pathlib.Path(__file__).resolve().parents[3]
HARNESS = ROOT / "tests" / "sdk" / "harness.mjs"
DELIVERY_TIMEOUT_S = 60


class Receiver:
    """A webhook receiver on loopback that keeps every delivery's headers and raw body."""

    def __init__(self):
        self.deliveries = queue.Queue()
        deliveries = self.deliveries

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                deliveries.put((dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next_event(self, event_type):
        deadline = time.monotonic() + DELIVERY_TIMEOUT_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {event_type} delivery within {DELIVERY_TIMEOUT_S} s")
            headers, body = self.deliveries.get(timeout=left)
            if json.loads(body).get("event") == event_type:
                return headers, body

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@unittest.skipUnless(os.environ.get("PROOFGATE_BIN"), "PROOFGATE_BIN is not set")
class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        wheel_dir = os.environ.get("PROOFGATE_SDK_WHEEL_DIR")
        if wheel_dir:  # the tests run the built wheel, not the source tree
            assert pathlib.Path(proofgate.__file__).resolve().is_relative_to(pathlib.Path(wheel_dir).resolve()), proofgate.__file__
        cls.receiver = Receiver()
        cls.harness = subprocess.Popen(
            ["node", str(HARNESS), "--webhook-url", cls.receiver.url],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = cls.harness.stdout.readline()
        if not line:
            cls.harness.wait()
            cls.receiver.close()
            raise RuntimeError("the harness ended before serving")
        cls.env = json.loads(line)
        cls.client = Client(cls.env["base_url"], api_key=cls.env["api_key"])

    @classmethod
    def tearDownClass(cls):
        cls.harness.stdin.close()
        cls.harness.wait(timeout=30)
        cls.receiver.close()

    def prove(self, request):
        self.harness.stdin.write(json.dumps({"op": "prove", "request": request}) + "\n")
        self.harness.stdin.flush()
        answer = json.loads(self.harness.stdout.readline())
        self.assertNotIn("error", answer)
        return answer["body"]

    def test_request_verify_status_and_the_signed_webhook(self):
        request = self.client.create_request("age_over_18", ttl_seconds=600)
        self.assertEqual(request["claim_type"], "age_over_18")
        self.assertEqual(request["verifier_domain"], "sdk.example")
        self.assertTrue(request["qr"]["uri"].startswith("proofgate:request?d="))
        self.assertIn("<svg", request["qr"]["svg"])

        body = self.prove(request)
        key = "sdk-python-" + request["request_id"]
        verified = self.client.verify(body, idempotency_key=key)
        self.assertEqual(verified["status"], "verified")
        self.assertEqual(verified["claim_type"], "age_over_18")
        # The same key answers the stored verdict, not NONCE_REPLAY: what a retry relies on.
        self.assertFalse(verified.replayed)
        again = self.client.verify(body, idempotency_key=key)
        self.assertEqual(again["proof_id"], verified["proof_id"])
        self.assertTrue(again.replayed)
        self.assertTrue(again.request_id)
        # Without the key it is a second answer to a spent nonce.
        with self.assertRaises(ProofgateError) as cm:
            self.client.verify(body)
        self.assertEqual((cm.exception.status, cm.exception.error_code), (409, "NONCE_REPLAY"))

        status = self.client.status(verified["proof_id"])
        self.assertEqual(status["proof_id"], verified["proof_id"])
        self.assertEqual(status["status"], "verified")

        headers, raw = self.receiver.next_event("proof.verified")
        hook = Webhook(self.env["webhook_secret"])
        event = hook.verify(raw, headers)
        self.assertEqual(event["proof_id"], verified["proof_id"])
        self.assertEqual(event["status"], "verified")
        self.assertEqual(hook.verify_sha256(raw, headers)["proof_id"], verified["proof_id"])
        # Tampered: the body, the signature, an old timestamp, another partner's secret.
        tampered = raw.replace(b'"verified"', b'"failed"')
        self.assertNotEqual(tampered, raw)
        with self.assertRaises(WebhookVerificationError):
            hook.verify(tampered, headers)
        with self.assertRaises(WebhookVerificationError):
            hook.verify_sha256(tampered, headers)
        forged = {k: v for k, v in headers.items() if k.lower() != "webhook-signature"}
        forged["webhook-signature"] = "v1," + "A" * 43 + "="
        with self.assertRaises(WebhookVerificationError):
            hook.verify(raw, forged)
        with self.assertRaises(WebhookVerificationError):
            hook.verify(raw, headers, now=int(headers["webhook-timestamp"]) + 301)
        with self.assertRaises(WebhookVerificationError):
            Webhook("whsec_" + "QUFB" * 11).verify(raw, headers)

    def test_a_bad_request_is_a_typed_error(self):
        with self.assertRaises(ProofgateError) as cm:
            self.client.create_request("age_over_18", ttl_seconds=99999)
        e = cm.exception
        self.assertEqual((e.status, e.error_code, e.field), (400, "INVALID_REQUEST", "ttl_seconds"))
        self.assertTrue(e.detail)
        self.assertTrue(e.request_id)
        with self.assertRaises(ProofgateError) as cm:
            Client(self.env["base_url"], api_key="pgk_AAAAAAAA_" + "A" * 43).status("x")
        self.assertEqual((cm.exception.status, cm.exception.error_code), (401, "UNAUTHORIZED"))

    def test_oauth_tokens_from_the_real_token_endpoint(self):
        tokens = ClientCredentials(self.env["base_url"] + "/oauth/token",
                                   self.env["client_id"], self.env["client_secret"])
        first = tokens.token()
        self.assertEqual(first.count("."), 2)  # a JWT
        self.assertIs(tokens.token(), first)  # cached until its refresh margin
        client = Client(self.env["base_url"], token_provider=tokens)
        request = client.create_request("age_over_18", ttl_seconds=600)
        self.assertEqual(request["verifier_domain"], "sdk.example")
        with self.assertRaises(ProofgateError) as cm:
            client.status("00000000-0000-4000-8000-000000000000")
        # Authenticated by the token, then not found.
        self.assertEqual((cm.exception.status, cm.exception.error_code), (404, "NOT_FOUND"))
        # A wrong secret: RFC 6749 §5.2 invalid_client from the real endpoint.
        secret = self.env["client_secret"]
        wrong = ClientCredentials(self.env["base_url"] + "/oauth/token", self.env["client_id"],
                                  secret[:-1] + ("B" if secret[-1] == "A" else "A"))
        with self.assertRaises(ProofgateError) as cm:
            wrong.token()
        self.assertEqual((cm.exception.status, cm.exception.error_code), (401, "invalid_client"))

    def test_a_429_is_retried_after_its_retry_after(self):
        # The demo partner's bucket (burst rate_burst, rate_limit per second) emptied without retries.
        once = Client(self.env["base_url"], api_key=self.env["demo_api_key"], retry=RetryPolicy(max_attempts=1))
        limited = None
        for _ in range(self.env["rate_burst"] * 4):
            try:
                once.create_request("age_over_18")
            except ProofgateError as e:
                limited = e
                break
        self.assertIsNotNone(limited, "the partner rate limit never answered 429")
        self.assertEqual((limited.status, limited.error_code), (429, "RATE_LIMITED"))
        self.assertGreaterEqual(limited.retry_after, 1)

        retries = []
        retrying = Client(self.env["base_url"], api_key=self.env["demo_api_key"],
                          on_retry=lambda n, delay, err: retries.append((n, delay, err)))
        started = time.monotonic()
        request = retrying.create_request("age_over_18")
        elapsed = time.monotonic() - started
        self.assertEqual(request["claim_type"], "age_over_18")
        self.assertGreaterEqual(len(retries), 1)
        _, delay, err = retries[0]
        self.assertEqual(err.status, 429)
        self.assertGreaterEqual(delay, err.retry_after)
        self.assertGreaterEqual(elapsed, err.retry_after)


if __name__ == "__main__":
    unittest.main()
