/*
 * keyops_impl.h -- for implementations of keyops.h that live outside
 * src/ca: the isolated key processes of src/keyproc.
 *
 * Two things are here:
 *  - struct keyops_vt: a table of the keyops.h functions.  A struct keyops
 *    made by keyops_new_vt() forwards every public call to it, so callers
 *    keep using keyops.h and never know which implementation they hold;
 *  - keyops_load_*_key(): load an identity from a key that is already in
 *    memory.  The key worker reads key files itself, relative to a
 *    directory descriptor (ca_key_read_fd), and then uses an ordinary
 *    in-process table.
 *
 * Nothing else of src/ca's internals (ca_int.h) is visible through this
 * header.
 */
#ifndef KEYOPS_IMPL_H
#define KEYOPS_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "keyops.h"

/*
 * One function per keyops.h function, same contract; "impl" is the
 * pointer given to keyops_new_vt().  Every member must be set.
 */
struct keyops_vt {
	void	(*free)(void *impl);
	int	(*load_ca)(void *impl, int64_t ca_id, const char *key_path,
		    const uint8_t *cert_der, size_t cert_len);
	int	(*load_ra)(void *impl, int64_t ra_id, int64_t ca_id,
		    const char *key_path, const uint8_t *cert_der,
		    size_t cert_len);
	X509	*(*ca_cert)(void *impl, int64_t ca_id);
	X509	*(*ra_cert)(void *impl, int64_t ra_id);
	int	(*decrypt)(void *impl, const int64_t *ra_ids, size_t nra,
		    int64_t ca_id, const uint8_t *env, size_t env_len,
		    unsigned int algs, uint8_t **out, size_t *out_len,
		    int *cipher_nid);
	int	(*issue)(void *impl, int64_t ca_id, const struct issue_tmpl *,
		    X509 **out, uint8_t *serial);
	int	(*issue_reply)(void *impl, int64_t ca_id, int64_t ra_id,
		    const struct issue_tmpl *, int chain,
		    const struct scep_reply *, struct issued_reply *out);
	int	(*sign_certrep)(void *impl, int64_t ra_id, int64_t ca_id,
		    const struct scep_reply *, STACK_OF(X509) *extra,
		    uint8_t **out, size_t *out_len);
	int	(*sign_nextca)(void *impl, int64_t ra_id, int64_t ca_id,
		    STACK_OF(X509) *next, time_t now, uint8_t **out,
		    size_t *out_len);
	int	(*make_ra)(void *impl, int64_t ca_id, EVP_PKEY *ra_pub,
		    const char *subject_dn, int usage, int days, time_t now,
		    X509 **out);
	int	(*sign_crl)(void *impl, int64_t ca_id,
		    const struct crl_entry *entries, size_t n,
		    int64_t crl_number, time_t this_update, time_t next_update,
		    X509_CRL **out);
};

/*
 * A struct keyops that forwards to "vt" (borrowed: static storage) with
 * "impl" (take: vt->free(impl) runs in keyops_free(), or here when this
 * fails).  *out is take.
 */
int	keyops_new_vt(const struct keyops_vt *vt, void *impl,
	    struct keyops **out);

/*
 * keyops_load_ca() / keyops_load_ra() with the key already read: "key" is
 * take (freed on every path), the certificate as for those functions,
 * with the same checks.  Only for an in-process table (SCEP_E_INTERNAL on
 * one made by keyops_new_vt()).
 */
int	keyops_load_ca_key(struct keyops *, int64_t ca_id, EVP_PKEY *key,
	    const uint8_t *cert_der, size_t cert_len);
int	keyops_load_ra_key(struct keyops *, int64_t ra_id, int64_t ca_id,
	    EVP_PKEY *key, const uint8_t *cert_der, size_t cert_len);

/*
 * keyops_issue() for the key process: the same checks and serial, but
 * only the DER of the certificate (*der take, OPENSSL_free), since it
 * travels as DER anyway and scepd decodes it.  In-process tables only.
 */
int	keyops_issue_der(struct keyops *, int64_t ca_id,
	    const struct issue_tmpl *, uint8_t **der, size_t *der_len,
	    uint8_t *serial);

#endif /* !KEYOPS_IMPL_H */
