-- The audit trail's hash chain (docs/admin.md, "The audit chain"): each entry's position, its
-- predecessor's hash and its own (SHA-256, hex), written with the entry. details is jsonb, which
-- keeps neither member order nor spacing, so details_canonical keeps the exact text that was
-- hashed. The head (last seq, hash and at) is one row that every writer locks FOR UPDATE: writers
-- on several instances serialize on it, and seq is assigned under that lock (a sequence would
-- leave gaps on rollback). Entries older than this migration are chained in id order when the
-- store opens.
ALTER TABLE audit_logs ADD COLUMN seq bigint, ADD COLUMN prev_hash text, ADD COLUMN hash text,
  ADD COLUMN details_canonical text;
CREATE UNIQUE INDEX audit_logs_seq ON audit_logs (seq);
CREATE TABLE audit_chain (
  id   integer PRIMARY KEY CHECK (id = 1),
  seq  bigint NOT NULL,
  hash text NOT NULL CHECK (length(hash) = 64),
  at   bigint NOT NULL
);
INSERT INTO audit_chain (id, seq, hash, at)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);

-- The usage report (GET /api/admin/usage): each proof's processing time in ms (NULL before).
ALTER TABLE proofs ADD COLUMN latency_ms integer;
