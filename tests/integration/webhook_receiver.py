#!/usr/bin/env python3
"""A webhook receiver for proofgate's integration tests and benchmark: a real HTTP server process
(standard library only) that checks every delivery's signatures on its own and answers as told.

For every POST it verifies, independently of proofgate's code:
  - Standard Webhooks (https://www.standardwebhooks.com/, "Verifying webhooks"): webhook-id,
    webhook-timestamp, webhook-signature = space-separated "v1,<base64 HMAC-SHA256(key,
    id.timestamp.body)>" entries, key = base64-decode of the secret after "whsec_"; an entry
    matches under hmac.compare_digest and the timestamp is within --tolerance seconds of now;
  - X-Proofgate-Signature: comma-separated "sha256=<hex HMAC-SHA256(key, body)>" entries;
and logs one JSON line per request to --log:
  {event_id, valid_v1, valid_sha256, v1_by_secret, sha256_by_secret, v1_entries, sha256_entries,
   answered, received_ms, done_ms, body_event, event_type, held, peer_port}
where answered is 200, 500, 429, "hang" (no answer; the connection closed after --hang-seconds)
or "close" (closed at once without an answer), received_ms/done_ms are epoch milliseconds
(time.time(), sub-millisecond) when the request was read and when the answer was written, and
write_error is set when the sender had gone before the answer could be written.

--mode ok answers 200 to everything (after --hang-seconds when given: a slow receiver);
--mode chaos picks an answer at random (seeded by --seed) with the --weights of 200, 500,
429 (Retry-After: --retry-after), hang (for --hang-seconds, default 1 s: past the sender's
timeout) and close.

Control routes for the tests (never logged as deliveries): GET /control/stats answers
{"received": N, "open": M} (deliveries read so far; read but not yet logged, i.e. still being
answered or held). With --hold-after N every delivery read after the first N waits, after it was
read and before it is answered, until POST /control/release (its entry then has "held": true), so
a test can keep the senders' attempts in flight (and their leases held) while it looks at them.

On start it prints {"port": N} as one line on stdout. --self-test checks the verifier against the
Standard Webhooks test vector and negative cases, prints the result as JSON and exits 0 or 1.
"""

import argparse
import base64
import hashlib
import hmac
import json
import random
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET_PREFIX = "whsec_"


def secret_key(secret):
    """The HMAC key of a "whsec_<base64>" secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    return base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)


def sign_v1(key, msg_id, timestamp, body):
    content = msg_id.encode() + b"." + str(timestamp).encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def verify_v1(key, msg_id, timestamp, body, header, now, tolerance=300):
    """True when one v1 entry of `header` is the signature of (msg_id, timestamp, body) under
    `key` and the timestamp is within `tolerance` seconds of `now`."""
    if msg_id is None or timestamp is None or header is None:
        return False
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if str(ts) != timestamp or abs(now - ts) > tolerance:
        return False
    expected = sign_v1(key, msg_id, ts, body).encode()
    ok = False
    for entry in header.split(" "):
        # Every entry is compared (no early exit): the time does not tell which one matched.
        if hmac.compare_digest(entry.encode(), expected):
            ok = True
    return ok


def verify_sha256(key, body, header):
    """True when one comma-separated "sha256=<hex>" entry of `header` is HMAC-SHA256(key, body)."""
    if header is None:
        return False
    expected = ("sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()).encode()
    ok = False
    for entry in header.split(","):
        if hmac.compare_digest(entry.strip().encode(), expected):
            ok = True
    return ok


def self_test():
    """The Standard Webhooks vector (standard-webhooks/standard-webhooks, libraries' test suites:
    secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, id msg_p5jXN8AQM9LWM0D4loKWxJek, timestamp
    1614265330, body {"test": 2432232314}) and the refusals a receiver must make."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    msg_id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    ts = 1614265330
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    key = secret_key(secret)
    other_key = secret_key("whsec_" + base64.b64encode(b"another key of 24+ bytes!!").decode())
    sig = sign_v1(key, msg_id, ts, body)
    sha = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    cases = {
        "vector signature": sig == expected,
        "vector verifies at its timestamp": verify_v1(key, msg_id, str(ts), body, expected, ts),
        "verifies within the tolerance": verify_v1(key, msg_id, str(ts), body, expected, ts + 299),
        "verifies as one entry of several": verify_v1(key, msg_id, str(ts), body,
                                                      "v1,Zm9vYmFy " + expected + " v2,x", ts),
        "refuses a tampered body": not verify_v1(key, msg_id, str(ts), b'{"test": 2432232315}', expected, ts),
        "refuses another id": not verify_v1(key, "msg_other", str(ts), body, expected, ts),
        "refuses an old timestamp": not verify_v1(key, msg_id, str(ts), body, expected, ts + 301),
        "refuses a future timestamp": not verify_v1(key, msg_id, str(ts), body, expected, ts - 301),
        "refuses the vector at today's clock": not verify_v1(key, msg_id, str(ts), body, expected, int(time.time())),
        "refuses a changed timestamp": not verify_v1(key, msg_id, str(ts + 1), body, expected, ts),
        "refuses a non-canonical timestamp": not verify_v1(key, msg_id, "0" + str(ts), body, expected, ts),
        "refuses a wrong secret": not verify_v1(other_key, msg_id, str(ts), body, expected, ts),
        "refuses the bare base64 (no v1, prefix)": not verify_v1(key, msg_id, str(ts), body, expected[3:], ts),
        "refuses a missing header": not verify_v1(key, msg_id, str(ts), body, None, ts),
        "sha256 verifies": verify_sha256(key, body, sha),
        "sha256 verifies as one entry of several": verify_sha256(key, body, "sha256=00," + sha),
        "sha256 refuses a tampered body": not verify_sha256(key, body + b" ", sha),
        "sha256 refuses a wrong secret": not verify_sha256(other_key, body, sha),
    }
    failed = [name for name, ok in cases.items() if not ok]
    print(json.dumps({"self_test": "ok" if not failed else "failed", "cases": len(cases), "failed": failed}))
    return 0 if not failed else 1


class Receiver:
    def __init__(self, args):
        self.keys = [secret_key(s) for s in args.secret]
        self.mode = args.mode
        self.hang = args.hang_seconds if args.hang_seconds is not None else (1.0 if args.mode == "chaos" else 0.0)
        self.retry_after = args.retry_after
        self.tolerance = args.tolerance
        self.rng = random.Random(args.seed)
        self.answers = ["200", "500", "429", "hang", "close"]
        self.weights = [float(w) for w in args.weights.split(",")]
        if len(self.weights) != len(self.answers):
            raise ValueError("--weights: five numbers (200, 500, 429, hang, close)")
        self.lock = threading.Lock()
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None
        self.received = 0
        self.open = 0
        self.gate = threading.Event()  # set: deliveries are answered; clear: they wait
        self.gate.set()
        self.hold_after = args.hold_after  # None, or the deliveries answered before holding begins

    def started(self):
        with self.lock:
            self.received += 1
            self.open += 1
            if self.hold_after is not None and self.received > self.hold_after:
                self.hold_after = None  # once: a release is final
                self.gate.clear()

    def release(self):
        with self.lock:
            self.hold_after = None
            self.gate.set()

    def stats(self):
        with self.lock:
            return {"received": self.received, "open": self.open}

    def choose(self):
        if self.mode == "ok":
            return "200"
        with self.lock:
            return self.rng.choices(self.answers, self.weights)[0]

    def record(self, entry):
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self.lock:
            if self.log is not None:
                self.log.write(line)
                self.log.flush()
            self.open -= 1


def make_handler(rx):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # the JSON log is the record; stderr stays quiet
            pass

        def answer_control(self, payload):
            text = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def do_GET(self):
            if self.path != "/control/stats":
                self.send_error(404)
                return
            self.answer_control(rx.stats())

        def do_POST(self):
            if self.path.startswith("/control/"):
                if self.path != "/control/release":
                    self.send_error(404)
                    return
                rx.release()
                self.answer_control({"released": True})
                return
            received = time.time() * 1000
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            msg_id = self.headers.get("webhook-id")
            ts = self.headers.get("webhook-timestamp")
            v1 = self.headers.get("webhook-signature")
            sha = self.headers.get("X-Proofgate-Signature")
            now = int(time.time())
            v1_by = [verify_v1(k, msg_id, ts, body, v1, now, rx.tolerance) for k in rx.keys]
            sha_by = [verify_sha256(k, body, sha) for k in rx.keys]
            try:
                payload = json.loads(body)
            except ValueError:
                payload = {}
            rx.started()  # from here on the finally below logs it
            held = not rx.gate.is_set()
            answer = rx.choose()
            entry = {
                "held": held,
                "event_id": msg_id,
                "valid_v1": any(v1_by),
                "valid_sha256": any(sha_by),
                "v1_by_secret": v1_by,
                "sha256_by_secret": sha_by,
                "v1_entries": len(v1.split(" ")) if v1 else 0,
                "sha256_entries": len(sha.split(",")) if sha else 0,
                "timestamp": ts,
                "path": self.path,
                "body_event": payload.get("event") if isinstance(payload, dict) else None,
                "body_event_id": payload.get("event_id") if isinstance(payload, dict) else None,
                "received_ms": received,
                "peer_port": self.client_address[1],
            }
            try:
                rx.gate.wait()
                if answer in ("200", "500", "429"):
                    entry["answered"] = int(answer)
                    if rx.mode == "ok" and rx.hang > 0:
                        time.sleep(rx.hang)
                    text = b'{"ok":true}' if answer == "200" else b'{"ok":false}'
                    self.send_response(int(answer))
                    if answer == "429":
                        self.send_header("Retry-After", str(rx.retry_after))
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                    self.wfile.flush()
                elif answer == "hang":
                    entry["answered"] = "hang"
                    time.sleep(rx.hang)
                    self.close_connection = True
                else:
                    entry["answered"] = "close"
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
            except OSError as e:
                # The sender went away (timed out, or was killed) before the answer was written.
                entry["write_error"] = type(e).__name__
                self.close_connection = True
            finally:
                entry["done_ms"] = time.time() * 1000
                rx.record(entry)

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = any free port (printed as JSON on stdout)")
    p.add_argument("--secret", action="append", default=[], help="whsec_... (give twice during a rotation)")
    p.add_argument("--mode", choices=["chaos", "ok"], default="ok")
    p.add_argument("--hang-seconds", type=float, default=None,
                   help="chaos: how long a hang lasts (default 1); ok: a delay before every 200 (default 0)")
    p.add_argument("--retry-after", type=int, default=1, help="the Retry-After of a 429 (seconds)")
    p.add_argument("--weights", default="40,20,15,10,15", help="chaos weights of 200,500,429,hang,close")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--tolerance", type=int, default=300, help="timestamp tolerance in seconds")
    p.add_argument("--log", help="JSON lines, one per request")
    p.add_argument("--hold-after", type=int, default=None,
                   help="hold every delivery after the first N unanswered until POST /control/release")
    p.add_argument("--self-test", action="store_true", help="check the verifier against the test vector and exit")
    args = p.parse_args()
    if args.self_test:
        return self_test()
    if not args.secret:
        p.error("--secret is required")
    rx = Receiver(args)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024

    server = Server((args.host, args.port), make_handler(rx))
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
