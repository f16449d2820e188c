-- The keys the verifier's feed follower trusts beyond the configured ones (docs/issuers.md, "Key
-- rotation"): each key a feed entry announced, and each key an entry retired, written in the
-- transaction that stores that entry's root, so a restarted follower still trusts the key that
-- signs the feed now and never trusts a retired key again.
CREATE TABLE feed_keys (
  issuer_id     INTEGER NOT NULL CHECK (issuer_id BETWEEN 0 AND 4294967295),
  key_id        TEXT NOT NULL CHECK (length(key_id) = 16),
  public_key    TEXT NOT NULL CHECK (length(public_key) = 43),
  valid_until   INTEGER NOT NULL DEFAULT 0 CHECK (valid_until >= 0),
  announced_seq INTEGER NOT NULL DEFAULT 0 CHECK (announced_seq >= 0),
  PRIMARY KEY (issuer_id, key_id)
) STRICT;
