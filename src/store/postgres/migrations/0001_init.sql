-- The initial schema of the production (PostgreSQL) store: partners, proof requests, proof metadata
-- (partitioned by month), the webhook outbox and its attempts, idempotency records, issuer roots,
-- circuit switches and the audit log. The same model as the SQLite store (src/store/sqlite).
--
-- Conventions:
-- * Times are Unix milliseconds in bigint, as in the model (core::UnixMillis) and the SQLite store:
--   one representation in both backends, exact round trips, no session time zone in play. "Never" is
--   NULL where the model says 0, except lease_until and webhook_previous_until (0 = none).
--   Month partitions and the analytics day are computed in UTC from these milliseconds.
-- * Ids are text: the model's ids are strings (uuids in production, other strings in tests).
-- * Each migration runs in one transaction under a session advisory lock (postgres_store.cpp), is
--   recorded in schema_migrations, and is never edited once released: forward-only.
-- * Zero downtime: instances of the previous release keep running against the migrated schema
--   during a rolling deploy, so a migration only expands. Renaming or retyping a column is done as
--   add (nullable, or with a constant DEFAULT: no table rewrite) -> backfill in batches (a later
--   migration or a job) -> swap (the next release reads the new column) -> drop the old one a
--   release later. Indexes on big tables are created CONCURRENTLY in a migration of their own
--   (CREATE INDEX CONCURRENTLY cannot run in a transaction block: the runner would need to learn
--   that first), NOT NULL is added as a CHECK (...) NOT VALID then VALIDATE CONSTRAINT.

CREATE TABLE schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);

-- A partner (the blueprint's api_clients). Only the public prefix and SHA-256 of the API key are
-- kept; the webhook secrets are sealed (AES-256-GCM) before they get here.
CREATE TABLE api_clients (
  id                             text PRIMARY KEY,
  name                           text NOT NULL,
  key_prefix                     text NOT NULL UNIQUE,
  key_hash                       bytea NOT NULL CHECK (length(key_hash) = 32),
  scopes                         text[] NOT NULL,
  domains                        text[] NOT NULL,
  webhook_url                    text,
  webhook_secret_sealed          bytea,
  -- Secret rotation: the previous secret signs too until webhook_previous_until (0: no previous).
  webhook_secret_previous_sealed bytea,
  webhook_previous_until         bigint NOT NULL DEFAULT 0,
  created_at                     bigint NOT NULL,
  last_used                      bigint
);

-- params is json, not jsonb: json keeps the text as given, so the parameters keep their order and
-- 64-bit values their exact digits.
CREATE TABLE proof_requests (
  id              text PRIMARY KEY,
  verifier_id     text NOT NULL REFERENCES api_clients (id),
  nonce           text NOT NULL,
  claim_type      text NOT NULL,
  circuit_version text NOT NULL,
  verifier_domain text NOT NULL,
  params          json NOT NULL CHECK (json_typeof(params) = 'object'),
  created_at      bigint NOT NULL,
  expires_at      bigint NOT NULL,
  UNIQUE (verifier_id, nonce)
);

-- The replay guard. A unique constraint on a partitioned table must include the partition key, so
-- UNIQUE (verifier_id, request_nonce) on proofs would only be unique within one month. This
-- unpartitioned table holds one row per answered (verifier_id, request_nonce), written in the same
-- transaction as the proof row: its primary key is the last word on replays (record_proof maps
-- its unique_violation to kNonceTaken). It also makes proof ids unique across partitions (proofs'
-- own primary key is (id, created_at)), is what the outbox's proof_id references (a foreign key
-- cannot point at a partitioned table without its partition key), and gives find_proof the
-- created_at that prunes the lookup to one partition.
CREATE TABLE proof_nonces (
  verifier_id   text NOT NULL REFERENCES api_clients (id),
  request_nonce text NOT NULL,
  proof_id      text NOT NULL UNIQUE,
  created_at    bigint NOT NULL,
  PRIMARY KEY (verifier_id, request_nonce)
);

-- One row per answered proof request, partitioned by month of created_at (ms, UTC) for tables of
-- tens of millions of rows a year: old months are detached or archived as a whole. Never the proof
-- or the public signals: only their SHA-256. user_id stays NULL (no accounts yet; anonymized on
-- account deletion per the blueprint's retention).
CREATE TABLE proofs (
  id              text NOT NULL,
  verifier_id     text NOT NULL REFERENCES api_clients (id),
  user_id         text,
  claim_type      text NOT NULL,
  circuit_version text NOT NULL,
  status          text NOT NULL CHECK (status IN ('verified', 'failed')),
  error_code      text,
  public_hash     text NOT NULL,
  request_nonce   text NOT NULL,
  created_at      bigint NOT NULL,
  verified_at     bigint,
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
-- Dashboards read one partner's proofs over a time range.
CREATE INDEX proofs_by_verifier_created ON proofs (verifier_id, created_at);

-- Rows of months without a partition (a clock far off, a back-fill) land here instead of failing
-- the verify; ensure_proof_partitions moves them into their month when it creates it.
CREATE TABLE proofs_default PARTITION OF proofs DEFAULT;

-- Creates the monthly partitions proofs_yYYYYmMM from the month before `around` (UTC) to
-- `months_ahead` months after it; existing ones are kept. Rows already waiting in proofs_default
-- for a new month move into it (the new partition is filled, then attached). Returns how many
-- partitions it created. Serialized by a transaction advisory lock; inserts into proofs wait only
-- while a partition is actually being created. Called at every migrate and by
-- PostgresStore::ensure_partitions (run it from a daily job so the months ahead always exist).
CREATE FUNCTION ensure_proof_partitions(months_ahead integer, around timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
  schema_name text;
  first_month timestamp := date_trunc('month', around AT TIME ZONE 'UTC') - interval '1 month';
  month_start timestamp;
  low bigint;
  high bigint;
  partition_name text;
  locked boolean := false;
  created integer := 0;
BEGIN
  IF months_ahead IS NULL OR months_ahead < 0 OR months_ahead > 120 THEN
    RAISE EXCEPTION 'ensure_proof_partitions: months_ahead must be within 0..120, not %', months_ahead
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT n.nspname INTO schema_name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid = 'proofs'::regclass;
  -- One creator at a time (the key is 'pgpt' for "proofgate partitions").
  PERFORM pg_advisory_xact_lock(1885827188);
  FOR step IN 0 .. months_ahead + 1 LOOP
    month_start := first_month + make_interval(months => step);
    partition_name := 'proofs_y' || to_char(month_start, 'YYYY') || 'm' || to_char(month_start, 'MM');
    CONTINUE WHEN to_regclass(format('%I.%I', schema_name, partition_name)) IS NOT NULL;
    IF NOT locked THEN
      -- No insert may route a row of this month into proofs_default between the check below and
      -- the attach. The parent first, as inserts lock it before the partition: no deadlock.
      EXECUTE format('LOCK TABLE ONLY %I.proofs IN SHARE ROW EXCLUSIVE MODE', schema_name);
      locked := true;
    END IF;
    low := (extract(epoch FROM month_start) * 1000)::bigint;
    high := (extract(epoch FROM month_start + interval '1 month') * 1000)::bigint;
    IF EXISTS (SELECT 1 FROM proofs_default WHERE created_at >= low AND created_at < high) THEN
      EXECUTE format('CREATE TABLE %I.%I (LIKE %I.proofs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                     schema_name, partition_name, schema_name);
      EXECUTE format('WITH moved AS (DELETE FROM %I.proofs_default WHERE created_at >= %s AND '
                     'created_at < %s RETURNING *) INSERT INTO %I.%I SELECT * FROM moved',
                     schema_name, low, high, schema_name, partition_name);
      EXECUTE format('ALTER TABLE %I.proofs ATTACH PARTITION %I.%I FOR VALUES FROM (%s) TO (%s)',
                     schema_name, schema_name, partition_name, low, high);
    ELSE
      EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.proofs FOR VALUES FROM (%s) TO (%s)',
                     schema_name, partition_name, schema_name, low, high);
    END IF;
    created := created + 1;
  END LOOP;
  RETURN created;
END;
$$;
REVOKE ALL ON FUNCTION ensure_proof_partitions(integer, timestamptz) FROM PUBLIC;

-- The transactional outbox: written in the proof's transaction (or on its own for events without
-- a proof: test events, account_deleted), claimed by workers under a lease. A lease is live while
-- lease_until > now; lease_until = 0 and lease_owner NULL: nobody holds the row. attempts counts
-- the attempts made so far; webhook_attempts numbers each one. payload is text: the exact bytes the
-- signer signs.
CREATE TABLE webhooks_outbox (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id        text NOT NULL UNIQUE,
  verifier_id     text NOT NULL REFERENCES api_clients (id),
  proof_id        text REFERENCES proof_nonces (proof_id),
  event_type      text NOT NULL,
  payload         text NOT NULL,
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at bigint NOT NULL,
  created_at      bigint NOT NULL,
  delivered_at    bigint,
  last_error      text,
  lease_owner     text,
  lease_until     bigint NOT NULL DEFAULT 0
);
-- Pending rows by due time (claim_due's candidates, next_due); a partner's pending rows oldest
-- first (claim_due's per-partner pick); a partner's leases (the per-partner cap); the admin list.
CREATE INDEX webhooks_outbox_due ON webhooks_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhooks_outbox_partner_pending ON webhooks_outbox (verifier_id, id)
  WHERE status = 'pending';
CREATE INDEX webhooks_outbox_leases ON webhooks_outbox (verifier_id, lease_until)
  WHERE status = 'pending';
CREATE INDEX webhooks_outbox_by_partner ON webhooks_outbox (verifier_id, id);

-- One row per attempt, numbered from 1 per event. status_code NULL: no HTTP answer; error NULL on
-- a 2xx.
CREATE TABLE webhook_attempts (
  event_id    text NOT NULL REFERENCES webhooks_outbox (event_id),
  attempt     integer NOT NULL CHECK (attempt >= 1),
  started_at  bigint NOT NULL,
  status_code integer,
  latency_ms  bigint NOT NULL,
  error       text,
  PRIMARY KEY (event_id, attempt)
);

CREATE TABLE idempotency_keys (
  verifier_id text NOT NULL REFERENCES api_clients (id),
  key         text NOT NULL,
  body_hash   text NOT NULL,
  status      integer NOT NULL,
  response    text NOT NULL,
  expires_at  bigint NOT NULL,
  PRIMARY KEY (verifier_id, key)
);
-- The sweep of expired records.
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- superseded_at = 0 while the root is its issuer's current one; at most one current root each.
CREATE TABLE issuer_roots (
  issuer_id     bigint NOT NULL CHECK (issuer_id BETWEEN 0 AND 4294967295),
  root          text NOT NULL,
  published_at  bigint NOT NULL,
  superseded_at bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (issuer_id, root)
);
CREATE UNIQUE INDEX issuer_roots_one_current ON issuer_roots (issuer_id) WHERE superseded_at = 0;

-- A circuit version is enabled unless a row here says otherwise.
CREATE TABLE circuit_versions (
  claim_type text NOT NULL,
  semver     text NOT NULL,
  enabled    boolean NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (claim_type, semver)
);

-- Admin and system actions (kept 24 months, then archived). details is jsonb with a GIN index for
-- queries on its keys and values (details @> '{"client_id": "..."}', details ? 'key').
CREATE TABLE audit_logs (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  actor_type text NOT NULL,
  actor_id   text,
  action     text NOT NULL,
  details    jsonb,
  ip         inet,
  at         bigint NOT NULL
);
CREATE INDEX audit_logs_at ON audit_logs (at);
CREATE INDEX audit_logs_details ON audit_logs USING gin (details);
