-- Admin accounts and their sign-in sessions (docs/admin.md, "Admin accounts and sign-in"). No
-- secret in the clear: the password as an argon2id encoded hash, the TOTP key sealed with the
-- master key (context: the admin id), enrolment and session tokens as SHA-256 hex.
CREATE TABLE admin_accounts (
  id                   text PRIMARY KEY,
  email                text NOT NULL UNIQUE CHECK (email = lower(email)),
  role                 text NOT NULL CHECK (role IN ('viewer', 'operator', 'approver')),
  status               text NOT NULL CHECK (status IN ('invited', 'active', 'disabled')),
  password_hash        text,
  totp_secret_sealed   bytea,
  totp_algorithm       text NOT NULL DEFAULT 'SHA1' CHECK (totp_algorithm IN ('SHA1', 'SHA256')),
  totp_last_step       bigint NOT NULL DEFAULT -1,
  failed_sign_ins      bigint NOT NULL DEFAULT 0 CHECK (failed_sign_ins >= 0),
  locked_until         bigint NOT NULL DEFAULT 0,
  enrolment_sha256     text UNIQUE CHECK (enrolment_sha256 IS NULL OR length(enrolment_sha256) = 64),
  enrolment_expires_at bigint NOT NULL DEFAULT 0,
  created_at           bigint NOT NULL,
  version              bigint NOT NULL DEFAULT 0
);

CREATE TABLE admin_sessions (
  token_sha256 text PRIMARY KEY CHECK (length(token_sha256) = 64),
  admin_id     text NOT NULL REFERENCES admin_accounts (id),
  csrf_sha256  text NOT NULL CHECK (length(csrf_sha256) = 64),
  created_at   bigint NOT NULL,
  last_seen_at bigint NOT NULL,
  expires_at   bigint NOT NULL
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);
