-- Roots followed from the issuers' signed feeds (docs/issuers.md): the feed entry's seq (0 for a
-- root the operator published by hand) and when the issuer signed it, so a verify answer can say
-- how fresh its root is and the follower can resume its chain after a restart.
ALTER TABLE issuer_roots ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE issuer_roots ADD COLUMN issued_at INTEGER NOT NULL DEFAULT 0;
UPDATE issuer_roots SET issued_at = published_at;
CREATE UNIQUE INDEX issuer_roots_feed_seq ON issuer_roots (issuer_id, seq) WHERE seq > 0;
