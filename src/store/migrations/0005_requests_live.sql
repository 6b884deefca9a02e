-- 0005_requests_live.sql -- one live request per transaction (SQLite),
-- the rule PostgreSQL has had since its 0001 (requests_live there).
--
-- At most one pending or issued (status 1 or 2, store.h) request with the
-- same endpoint, transactionID, key and signer certificate.  The service
-- answers a re-sent message from the existing row and never records it
-- twice; only two copies of one PKCSReq handled at the same moment could
-- both be recorded (and both get a certificate): now the second INSERT
-- fails with SCEP_E_EXISTS, as on PostgreSQL.  A new attempt after a
-- rejection (status 3), or the same key under a new signer certificate,
-- is not affected.
--
-- SQLite has no sha256() (and the sqlite3 CLI must be able to read and
-- write the file without functions of ours), so the store writes the
-- SHA-256 of signer_der into signer_fp itself on every insert; NULL when
-- there is no signer certificate, as sha256(NULL) is NULL on PostgreSQL.
--
-- Rows written before this migration keep signer_fp NULL, and NULLs never
-- collide in a unique index: the migration cannot fail on duplicate live
-- rows an old store may already hold (they stay as they are).  The rule
-- is about two copies of a message arriving together, both new rows.
ALTER TABLE requests ADD COLUMN signer_fp BLOB;
CREATE UNIQUE INDEX requests_live ON requests
    (endpoint_id, transid, key_fp, signer_fp)
    WHERE status IN (1, 2);
