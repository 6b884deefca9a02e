-- 0003_azure.sql -- Azure accounts and the Intune settings of endpoints
-- (issue 5; spec intune-scep.md section 3).
--
-- Same conventions as 0001_init.sql.  Secrets are never stored in clear:
-- secret_sealed and proxy_password_sealed hold libsodium crypto_secretbox
-- output (24-byte nonce, 16-byte MAC, ciphertext) under a key kept outside
-- the database (DATA_DIR/azure.key, see svc_intune.h).

-- One Azure account (tenant configuration).  environment is enum
-- intune_env: 0 global, 1 US Government, 2 US Government DoD, 3 China,
-- 4 custom; an empty URL takes the environment's default.  Accounts are
-- soft-deleted (deleted_at) so that audit records can still name them.
CREATE TABLE azure_accounts (
	id			INTEGER PRIMARY KEY,
	name			TEXT NOT NULL,
	environment		INTEGER NOT NULL,
	tenant_id		TEXT NOT NULL,
	client_id		TEXT NOT NULL,
	secret_sealed		BLOB NOT NULL,
	authority_url		TEXT NOT NULL,
	graph_url		TEXT NOT NULL,
	intune_resource_url	TEXT NOT NULL,
	intune_app_id		TEXT NOT NULL,
	graph_scope		TEXT NOT NULL,
	intune_scope		TEXT NOT NULL,
	proxy			TEXT NOT NULL,
	proxy_user		TEXT NOT NULL,
	proxy_password_sealed	BLOB,
	ca_bundle_path		TEXT NOT NULL,
	revocation_poll		INTEGER NOT NULL,
	delegation_general	INTEGER NOT NULL,
	created_at		BIGINT NOT NULL,
	updated_at		BIGINT NOT NULL,
	deleted_at		BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX azure_accounts_name ON azure_accounts (name)
    WHERE deleted_at = 0;

-- "Customized" delegation of an account to organizations/departments.
CREATE TABLE azure_account_delegations (
	id		INTEGER PRIMARY KEY,
	account_id	BIGINT NOT NULL REFERENCES azure_accounts (id),
	org_id		BIGINT NOT NULL REFERENCES organizations (id),
	dept_id		BIGINT REFERENCES departments (id),
	UNIQUE (account_id, org_id, dept_id)
);
CREATE INDEX azure_account_delegations_org ON azure_account_delegations
    (org_id);

-- The Intune settings of an Intune endpoint (svc_intune_ep).
CREATE TABLE intune_endpoints (
	id			INTEGER PRIMARY KEY,
	endpoint_id		BIGINT NOT NULL UNIQUE
				    REFERENCES endpoints (id),
	azure_account_id	BIGINT NOT NULL REFERENCES azure_accounts (id),
	wait_success		INTEGER NOT NULL,
	ca_configuration	TEXT NOT NULL,
	issuing_ca		TEXT NOT NULL
);
CREATE INDEX intune_endpoints_account ON intune_endpoints
    (azure_account_id);
