-- 0004_key_ref.sql -- CA and RA key references (issue 8: HSM keys).
--
-- cas.key_path and ras.key_path hold the key *reference*: an absolute
-- path of a PEM key file, or an RFC 7512 "pkcs11:" URI of a private key
-- in a PKCS#11 token (src/ca/ca_p11.h).  A reference never carries a
-- secret: a URI with a PIN (pin-value, pin-source) or a module choice
-- (module-name, module-path) is refused by the store itself, so no code
-- path can write a PIN into the database.  SQLite cannot add a CHECK to
-- an existing table, hence the triggers; rows written before this
-- migration are not re-checked.

CREATE TRIGGER cas_key_ref_insert BEFORE INSERT ON cas
WHEN NOT (NEW.key_path LIKE '/%' OR (NEW.key_path LIKE 'pkcs11:%' AND
    NEW.key_path NOT LIKE '%pin-%' AND NEW.key_path NOT LIKE '%module-%'))
BEGIN
	SELECT RAISE(ABORT, 'key reference: absolute file path or pkcs11: URI without PIN or module');
END;

CREATE TRIGGER cas_key_ref_update BEFORE UPDATE OF key_path ON cas
WHEN NOT (NEW.key_path LIKE '/%' OR (NEW.key_path LIKE 'pkcs11:%' AND
    NEW.key_path NOT LIKE '%pin-%' AND NEW.key_path NOT LIKE '%module-%'))
BEGIN
	SELECT RAISE(ABORT, 'key reference: absolute file path or pkcs11: URI without PIN or module');
END;

CREATE TRIGGER ras_key_ref_insert BEFORE INSERT ON ras
WHEN NOT (NEW.key_path LIKE '/%' OR (NEW.key_path LIKE 'pkcs11:%' AND
    NEW.key_path NOT LIKE '%pin-%' AND NEW.key_path NOT LIKE '%module-%'))
BEGIN
	SELECT RAISE(ABORT, 'key reference: absolute file path or pkcs11: URI without PIN or module');
END;

CREATE TRIGGER ras_key_ref_update BEFORE UPDATE OF key_path ON ras
WHEN NOT (NEW.key_path LIKE '/%' OR (NEW.key_path LIKE 'pkcs11:%' AND
    NEW.key_path NOT LIKE '%pin-%' AND NEW.key_path NOT LIKE '%module-%'))
BEGIN
	SELECT RAISE(ABORT, 'key reference: absolute file path or pkcs11: URI without PIN or module');
END;
