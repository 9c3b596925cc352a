-- Issue 15: two-factor sign-in with TOTP (RFC 6238) and one-time recovery codes
-- (docs/api.md "Two-factor sign-in", docs/security.md).

-- An account's TOTP secret: set up (enabled_at NULL) until a code from it confirms it. The secret
-- is stored encrypted (AES-256-GCM, server/auth/totp.ts), never in the clear. last_step is the
-- RFC 6238 time step of the last code accepted: a code is taken once, and none older than it.
CREATE TABLE user_totp (
  user_id    uuid PRIMARY KEY REFERENCES users (id),
  secret_enc text NOT NULL,
  enabled_at timestamptz,
  last_step  bigint,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Ten recovery codes per enabled account, each usable once; stored as scrypt hashes like passwords.
-- Turning 2FA on replaces them; turning it off deletes them.
CREATE TABLE user_recovery_codes (
  user_id   uuid NOT NULL REFERENCES users (id),
  n         smallint NOT NULL CHECK (n BETWEEN 1 AND 10),
  code_hash text NOT NULL,
  used_at   timestamptz,
  PRIMARY KEY (user_id, n)
);

-- The second step of a login: a password that was right gives one of these instead of tokens.
-- 'verify': the account has 2FA on, a code completes the login; 'enrol': the account's role must
-- have 2FA (REQUIRE_2FA_ROLES) and it has none yet, so the token may only set it up. The token
-- is `{id}.{random}`, kept as its SHA-256; used once, expires, and dies after too many wrong codes.
CREATE TABLE mfa_challenges (
  id         uuid PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id),
  token_hash text NOT NULL,
  purpose    text NOT NULL CHECK (purpose IN ('verify', 'enrol')),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  failures   integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mfa_challenges_expiry ON mfa_challenges (expires_at);
