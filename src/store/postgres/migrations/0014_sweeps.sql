-- The indexes the sweeps need (core::SweepStore, docs/scaling.md): expired proof requests by
-- expiry, nonces by age, the outbox by proof (the sweep's "no outbox row names it" and the foreign
-- key's check when a nonce is deleted), settled outbox rows by when they settled. idempotency_keys
-- has its expiry index since 0001.
CREATE INDEX proof_requests_expiry ON proof_requests (expires_at);
CREATE INDEX proof_nonces_created ON proof_nonces (created_at);
CREATE INDEX webhooks_outbox_proof ON webhooks_outbox (proof_id) WHERE proof_id IS NOT NULL;
CREATE INDEX webhooks_outbox_delivered ON webhooks_outbox (delivered_at) WHERE status = 'delivered';
CREATE INDEX webhooks_outbox_dead ON webhooks_outbox (created_at) WHERE status = 'dead';
