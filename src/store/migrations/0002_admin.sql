-- 0002_admin.sql -- the administration model of issue 3: administrators'
-- certificate types, API tokens owned by administrators, console
-- sessions, login throttling, account constraints, one-time challenges,
-- and the indexes the administrative searches need.
--
-- Same conventions as 0001_init.sql (portable to PostgreSQL; times are
-- Unix seconds; hashes are raw 32-byte BLOBs; an absent reference is
-- NULL).

-- Certificate types an RAO/DRAO may manage: bit 1 client, bit 2 device
-- (an MRAO has both).
ALTER TABLE administrators ADD COLUMN cert_types INTEGER NOT NULL DEFAULT 3;

-- API tokens belong to an administrator (NULL for tokens made through
-- store_token_insert, which predates administrators), may expire and are
-- revoked by setting revoked_at, never deleted, so the audit trail can
-- still name them.
ALTER TABLE api_tokens ADD COLUMN admin_id BIGINT
    REFERENCES administrators (id) ON DELETE CASCADE;
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_tokens ADD COLUMN revoked_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX api_tokens_admin ON api_tokens (admin_id);

-- Console sessions, in the database so that every node of a cluster
-- knows them.  The cookie value and the CSRF token are stored as SHA-256.
CREATE TABLE admin_sessions (
	id		INTEGER PRIMARY KEY,
	admin_id	BIGINT NOT NULL REFERENCES administrators (id)
			    ON DELETE CASCADE,
	sid_hash	BLOB NOT NULL UNIQUE,
	csrf_hash	BLOB NOT NULL,
	client_addr	TEXT NOT NULL,
	created_at	BIGINT NOT NULL,
	expires_at	BIGINT NOT NULL
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);

-- Failed logins per key ("name:<login>", "addr:<client address>"), for
-- throttling; old rows are pruned as new ones arrive.
CREATE TABLE login_failures (
	id		INTEGER PRIMARY KEY,
	key		TEXT NOT NULL,
	ts		BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, ts);

-- Subject/SAN constraints of an account (fnmatch patterns, '' = any).
CREATE TABLE account_rules (
	account_id	BIGINT PRIMARY KEY REFERENCES accounts (id),
	cn_pattern	TEXT NOT NULL,
	san_pattern	TEXT NOT NULL
);

-- One-time challenges of an account: keyed hash only, a time to live,
-- and used_at set (once, atomically) when a certificate is issued.
CREATE TABLE one_time_challenges (
	id		INTEGER PRIMARY KEY,
	account_id	BIGINT NOT NULL REFERENCES accounts (id),
	challenge_hash	BLOB NOT NULL UNIQUE,
	created_at	BIGINT NOT NULL,
	expires_at	BIGINT NOT NULL,
	used_at		BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX one_time_challenges_account ON one_time_challenges
    (account_id);

-- Searches of the admin API.
CREATE INDEX certs_endpoint ON certs (endpoint_id);
CREATE INDEX certs_account ON certs (account_id);
CREATE INDEX certs_org ON certs (org_id, dept_id);
CREATE INDEX certs_not_after ON certs (not_after);
CREATE INDEX events_endpoint ON events (endpoint_id, id);
CREATE INDEX events_ts ON events (ts);
CREATE INDEX departments_org ON departments (org_id);
