-- The indexes the sweeps need (core::SweepStore, docs/scaling.md): expired proof requests and
-- idempotency keys by expiry, settled outbox rows by when they settled. Pending rows are never in
-- the partial indexes, so the claim path does not maintain them twice.
CREATE INDEX proof_requests_expiry ON proof_requests (expires_at);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
CREATE INDEX webhooks_outbox_delivered ON webhooks_outbox (delivered_at) WHERE status = 'delivered';
CREATE INDEX webhooks_outbox_dead ON webhooks_outbox (created_at) WHERE status = 'dead';
