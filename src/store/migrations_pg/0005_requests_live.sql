-- 0005_requests_live.sql -- nothing to change on PostgreSQL: requests_live
-- (0001_init.sql) has enforced one live request per transaction from the
-- start.  SQLite gets the same rule in its 0005 (a signer_fp column the
-- store fills, SQLite having no sha256()); the number is kept in step so
-- both backends are at the same schema version (scepd migrate checks it).
COMMENT ON INDEX requests_live IS
    'one pending or issued request per endpoint, transactionID, key and signer';
