-- Analytics for partners: daily proof counts as a materialized view, and a partner-scoped view of
-- it for the role proofgate_partner (the blueprint's "RLS for multi-tenant analytics").

-- Proofs per UTC day, partner, claim type and status. Refreshed by a job
-- (PostgresStore::refresh_proof_counts: REFRESH MATERIALIZED VIEW CONCURRENTLY, which needs the
-- unique index below and never blocks readers). created_at is Unix ms: day = 1970-01-01 + ms / 1 day.
CREATE MATERIALIZED VIEW proof_counts_daily AS
SELECT DATE '1970-01-01' + (created_at / 86400000)::integer AS day,
       verifier_id,
       claim_type,
       status,
       count(*) AS count
FROM proofs
GROUP BY 1, 2, 3, 4
WITH DATA;
CREATE UNIQUE INDEX proof_counts_daily_key
  ON proof_counts_daily (day, verifier_id, claim_type, status);

-- The role a partner-facing reader (a dashboard backend, a BI tool) connects as, or SETs ROLE to.
-- Roles belong to the cluster, not the database: another database on the same server (or a
-- concurrent migration of one) may have created it already.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'proofgate_partner') THEN
    CREATE ROLE proofgate_partner NOLOGIN;
  END IF;
EXCEPTION
  WHEN duplicate_object OR unique_violation THEN
    NULL;  -- created concurrently
END;
$$;

-- Row-level security cannot be enabled on a materialized view (only on tables), so the partner's
-- rows are cut out by a view instead: proofgate_partner may read partner_proof_counts and nothing
-- else (no privilege on proof_counts_daily or any table). The view runs with its owner's rights and
-- shows only the rows of the partner named by the session setting app.verifier_id, which the
-- connection's owner sets (SET / SET LOCAL app.verifier_id = '<client id>'); unset, it shows
-- nothing. security_barrier makes the filter run before any function or operator of the caller's
-- query, so a leaky function in a WHERE cannot see other partners' rows. (The other way the
-- blueprint allows, a table refreshed from the view with a policy on it, would copy every row at
-- every refresh for the same result.)
CREATE VIEW partner_proof_counts WITH (security_barrier = true) AS
SELECT day, verifier_id, claim_type, status, count
FROM proof_counts_daily
WHERE verifier_id = current_setting('app.verifier_id', true);

REVOKE ALL ON proof_counts_daily FROM PUBLIC;
REVOKE ALL ON partner_proof_counts FROM PUBLIC;
GRANT SELECT ON partner_proof_counts TO proofgate_partner;
-- The schema the store lives in (public, or another one on the search_path): the role must be
-- able to look the view up in it.
DO $$
BEGIN
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO proofgate_partner', current_schema());
END;
$$;
