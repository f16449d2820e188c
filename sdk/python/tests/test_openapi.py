"""The SDK's view of the API checked against docs/openapi.json (what GET /openapi.json serves):
the routes it calls, verify's Idempotency-Key header, the members create_request sends, and the
problem members ProofgateError reads. A change to the contract that breaks this SDK fails here."""

import inspect
import json
import pathlib
import unittest

from proofgate import Client

OPENAPI = pathlib.Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


class OpenAPITest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.doc = json.loads(OPENAPI.read_text())

    def test_routes_and_the_idempotency_header(self):
        paths = self.doc["paths"]
        for path, method in (("/api/v1/requests", "post"), ("/api/v1/verify", "post"),
                             ("/api/v1/status/{proof_id}", "get")):
            self.assertIn(method, paths.get(path, {}), f"{method.upper()} {path}")
        params = self.doc["components"]["parameters"]
        names = [params[p["$ref"].rsplit("/", 1)[1]] for p in paths["/api/v1/verify"]["post"]["parameters"]]
        self.assertIn(("Idempotency-Key", "header"), [(p["name"], p["in"]) for p in names])

    def test_create_request_sends_only_members_of_the_schema(self):
        props = self.doc["components"]["schemas"]["CreateRequestBody"]["properties"]
        sig = inspect.signature(Client.create_request)
        sent = [n for n in sig.parameters if n != "self"]
        self.assertEqual(sorted(sent), sorted(props))

    def test_the_members_the_sdk_reads(self):
        schemas = self.doc["components"]["schemas"]
        for schema, members in {
            "Problem": ("status", "error_code", "detail", "field"),
            "ProofRequest": ("request_id", "nonce", "qr", "expires_at"),
            "Verified": ("status", "proof_id"),
            "ProofStatus": ("proof_id", "status"),
        }.items():
            for m in members:
                self.assertIn(m, schemas[schema]["properties"], f"{schema}.{m}")


if __name__ == "__main__":
    unittest.main()
