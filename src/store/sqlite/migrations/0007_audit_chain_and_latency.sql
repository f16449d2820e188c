-- The audit trail's hash chain (docs/admin.md, "The audit chain"): each entry's position, its
-- predecessor's hash and its own (SHA-256, hex), written with the entry. The head (last seq, hash
-- and at) lives in its own row so that the chain continues after retention removed every entry.
-- Entries older than this migration are chained in id order when the store opens.
ALTER TABLE audit_logs ADD COLUMN seq INTEGER;
ALTER TABLE audit_logs ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_logs ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_logs_seq ON audit_logs (seq);
CREATE TABLE audit_chain (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  seq  INTEGER NOT NULL,
  hash TEXT NOT NULL CHECK (length(hash) = 64),
  at   INTEGER NOT NULL
) STRICT;
INSERT INTO audit_chain (id, seq, hash, at)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);

-- The usage report (GET /api/admin/usage): each proof's processing time in ms (NULL before).
ALTER TABLE proofs ADD COLUMN latency_ms INTEGER;
