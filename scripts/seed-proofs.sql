-- One batch of synthetic proof metadata for the data-at-scale benchmark (scripts/bench-scale.mjs):
-- rows :lo .. :hi of one month's :month_rows rows, all in the month that starts at :month_start_ms
-- (Unix ms, UTC) and lasts :month_len_ms. BENCHMARK DATA ONLY: never run it against a real database.
--
--   psql -X -v ON_ERROR_STOP=1 -v lo=0 -v hi=99999 -v month_rows=100000 \
--        -v month_start_ms=1764547200000 -v month_len_ms=2678400000 -v partners=200 -v seed=0.5 \
--        -f scripts/seed-proofs.sql postgresql://...
--
-- The month's partition must exist (SELECT ensure_proof_partitions(...)); otherwise the rows land
-- in proofs_default. The shape of the data:
-- * partners: :partners rows in api_clients (ids are md5-derived uuids, 'scale partner K'), created
--   here if missing (proofs.verifier_id references api_clients). Traffic is heavy-headed, like a
--   few large banks and a long tail: row -> partner floor(partners * u^3) for a uniform u, so
--   partner 0 gets ≈ 17 % of all rows, partner 1 ≈ 4.4 %, partner 100 (the median) ≈ 0.26 %,
--   the last ≈ 0.17 %.
-- * claim types: age_over_18 50 %, citizenship 25 %, education 15 %, income_gte 10 %; circuit
--   versions 1.0.0 (80 %) and 1.1.0.
-- * status: 97 % verified (verified_at = created_at + 0..40 ms), 3 % failed with an error code
--   (INVALID_PROOF, BINDING_MISMATCH, STALE_ROOT, REQUEST_EXPIRED) and no verified_at.
-- * created_at rises with the row number through the month (with jitter inside each row's slot),
--   as the service appends them: the heap is in time order, as in production.
-- * id: a random uuid v4 (the service's proof ids); request_nonce: 22 base64url characters;
--   public_hash: 64 hex characters (the shape of a SHA-256); user_id NULL (as the service writes).
-- proof_nonces is not seeded: no constraint ties proofs to it (see 0001_init.sql), and the
-- dashboard and usage queries never read it. (GET /api/v1/status/{id} of a seeded row would answer
-- 404: find_proof looks the row's created_at up in proof_nonces.)
SET synchronous_commit = off;

INSERT INTO api_clients (id, name, key_prefix, key_hash, scopes, domains, created_at)
SELECT md5('scale-partner-' || k)::uuid::text,
       'scale partner ' || k,
       'pgscale_' || lpad(k::text, 4, '0'),
       sha256(convert_to('scale-partner-' || k, 'UTF8')),
       ARRAY['age_over_18', 'citizenship', 'education', 'income_gte'],
       ARRAY['partner' || k || '.example'],
       :month_start_ms
FROM generate_series(0, :partners - 1) AS k
ON CONFLICT (id) DO NOTHING;

SELECT setseed(:seed);

INSERT INTO proofs (id, verifier_id, user_id, claim_type, circuit_version, status, error_code,
                    public_hash, request_nonce, created_at, verified_at)
SELECT gen_random_uuid()::text,
       md5('scale-partner-' || least(:partners - 1, floor(:partners * g.u * g.u * g.u)::integer))::uuid::text,
       NULL,
       CASE WHEN g.c < 0.50 THEN 'age_over_18'
            WHEN g.c < 0.75 THEN 'citizenship'
            WHEN g.c < 0.90 THEN 'education'
            ELSE 'income_gte' END,
       CASE WHEN g.v < 0.80 THEN '1.0.0' ELSE '1.1.0' END,
       CASE WHEN g.s < 0.97 THEN 'verified' ELSE 'failed' END,
       CASE WHEN g.s < 0.97 THEN NULL
            WHEN g.s < 0.982 THEN 'INVALID_PROOF'
            WHEN g.s < 0.988 THEN 'BINDING_MISMATCH'
            WHEN g.s < 0.994 THEN 'STALE_ROOT'
            ELSE 'REQUEST_EXPIRED' END,
       md5(g.i::text || ':' || g.t::text) || md5(g.t::text || ':' || g.i::text),
       translate(substr(encode(decode(md5(g.t::text || 'n' || g.i::text), 'hex'), 'base64'), 1, 22), '+/', '-_'),
       g.t,
       CASE WHEN g.s < 0.97 THEN g.t + floor(g.v * 40)::bigint ELSE NULL END
FROM (
  -- One row per i; the random draws are made once per row (a subquery with volatile functions
  -- in its target list is not flattened into the outer query).
  SELECT i, u, c, v, s,
         :month_start_ms::bigint + floor((i + j) * (:month_len_ms::float8 / :month_rows))::bigint AS t
  FROM (SELECT i, random() AS u, random() AS c, random() AS v, random() AS s, random() AS j
        FROM generate_series(:lo::bigint, :hi::bigint) AS i) AS r
) AS g;
