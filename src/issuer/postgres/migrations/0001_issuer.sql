-- One issuer node's tables (docs/issuers.md, "What the issuer node stores"), created in that
-- issuer's own schema (issuer_moha, issuer_tu, issuer_nrb: the store sets search_path), so the
-- three nodes and the verifier can share one database without a name in common. The same rules as
-- the SQLite store (src/issuer/sqlite_issuer_store.cpp): a revoked leaf holds '0' and keeps its
-- credential JSON for the holder's retry answer; record numbers exist only as their pepper-HMAC.
CREATE TABLE leaves (
  leaf_index        bigint PRIMARY KEY CHECK (leaf_index >= 0),
  leaf              text NOT NULL,
  kind              text NOT NULL CHECK (kind IN ('credential', 'padding')),
  subject           bytea CHECK (subject IS NULL OR length(subject) = 32),
  holder_commitment text,
  code_mac          bytea CHECK (code_mac IS NULL OR length(code_mac) = 32),
  issued_at         bigint NOT NULL,
  revoked_at        bigint,
  credential        text,
  CHECK ((kind = 'credential') = (subject IS NOT NULL AND holder_commitment IS NOT NULL
                                  AND credential IS NOT NULL AND code_mac IS NOT NULL))
);
CREATE UNIQUE INDEX leaves_subject_commitment ON leaves (subject, holder_commitment)
  WHERE kind = 'credential';

-- entry: the signed entry as the node serialised it (text, not jsonb: kept byte for byte); the
-- cast in the CHECK refuses text that is not JSON.
CREATE TABLE feed (
  seq   bigint PRIMARY KEY CHECK (seq >= 1),
  entry text NOT NULL CHECK (entry::jsonb IS NOT NULL),
  root  text NOT NULL UNIQUE
);

CREATE TABLE audit (
  id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at     bigint NOT NULL,
  actor  text NOT NULL,
  action text NOT NULL,
  target text NOT NULL,
  detail text NOT NULL
);

-- position: insertion order, the tie-break of keys created in the same millisecond.
CREATE TABLE keys (
  key_id        text PRIMARY KEY,
  public_key    text NOT NULL,
  created_at    bigint NOT NULL,
  retired_after bigint,
  position      bigint GENERATED ALWAYS AS IDENTITY UNIQUE
);
