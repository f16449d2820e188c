-- A verifier domain belongs to one partner (two partners on one domain would receive the same
-- nullifier for one person, linking them): its primary key is the last word, written with the
-- partner (PostgresStore::create_client). Existing partners' domains are copied in; should two
-- partners already share one, the migration stops naming it and the database stays at the
-- previous version until an operator resolves it (README "One domain, one partner").
CREATE TABLE verifier_domains (
  domain    text PRIMARY KEY,
  client_id text NOT NULL REFERENCES api_clients (id)
);
DO $$
DECLARE
  shared record;
BEGIN
  SELECT d.domain, string_agg(c.id, ', ' ORDER BY c.created_at, c.id) AS partners INTO shared
  FROM api_clients c, unnest(c.domains) AS d(domain)
  GROUP BY d.domain HAVING count(DISTINCT c.id) > 1
  ORDER BY d.domain LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'verifier domain % is registered by several partners (%): a domain has one partner; remove it from all but one before migrating', shared.domain, shared.partners;
  END IF;
END;
$$;
INSERT INTO verifier_domains (domain, client_id)
  SELECT DISTINCT d.domain, c.id FROM api_clients c, unnest(c.domains) AS d(domain);

-- A revoked API key (admin revoke-key): find_client_by_prefix no longer finds the partner.
ALTER TABLE api_clients ADD COLUMN revoked_at bigint;
