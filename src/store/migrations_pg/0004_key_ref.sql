-- 0004_key_ref.sql (PostgreSQL) -- CA and RA key references (issue 8).
--
-- Same rule as the SQLite triggers of migrations/0004_key_ref.sql:
-- key_path is an absolute path of a PEM key file or an RFC 7512 "pkcs11:"
-- URI without a PIN (pin-value, pin-source) or module (module-name,
-- module-path) in it.  NOT VALID: rows written before are not re-checked,
-- as in SQLite; every new or changed row is.

ALTER TABLE cas ADD CONSTRAINT cas_key_ref CHECK (key_path LIKE '/%' OR
    (key_path LIKE 'pkcs11:%' AND key_path NOT LIKE '%pin-%' AND
    key_path NOT LIKE '%module-%')) NOT VALID;

ALTER TABLE ras ADD CONSTRAINT ras_key_ref CHECK (key_path LIKE '/%' OR
    (key_path LIKE 'pkcs11:%' AND key_path NOT LIKE '%pin-%' AND
    key_path NOT LIKE '%module-%')) NOT VALID;
