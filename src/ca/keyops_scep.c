/*
 * keyops_scep.c -- the key operations that produce or consume SCEP
 * messages: open a pkcsPKIEnvelope, sign a CertRep, sign a GetNextCACert
 * reply.  The CMS work is done by the protocol core (scep.h); this file
 * only picks the identities and lends their keys for one call.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>

#include "ca_int.h"
#include "keyops.h"
#include "keyops_impl.h"
#include "scep.h"
#include "scep_err.h"

int
keyops_decrypt(struct keyops *ko, const int64_t *ra_ids, size_t nra,
    int64_t ca_id, const uint8_t *env, size_t env_len, unsigned int algs,
    uint8_t **out, size_t *out_len, int *cipher_nid)
{
	struct scep_keypair	 kp[KEYOPS_MAX_DECRYPT_KEYS];
	const struct keyops_vt	*vt = NULL;
	void			*impl = NULL;
	size_t			 i, n = 0;
	int			 r = SCEP_OK;

	*out = NULL;
	*out_len = 0;
	if (keyops_remote(ko, &vt, &impl))
		return vt->decrypt(impl, ra_ids, nra, ca_id, env, env_len, algs,
		    out, out_len, cipher_nid);
	memset(kp, 0, sizeof(kp));
	if (ko == NULL || (ra_ids == NULL && nra > 0))
		return SCEP_E_INTERNAL;
	if (nra + (ca_id != 0 ? 1 : 0) > KEYOPS_MAX_DECRYPT_KEYS)
		return SCEP_E_TOOBIG;
	if (nra == 0 && ca_id == 0)
		return SCEP_E_NOTFOUND;

	/* References, so a concurrent reload cannot free them under us.
	 * RAs first: spec 4.3 rule 4, the RA is who clients encrypt to. */
	for (i = 0; i < nra; i++) {
		if ((r = keyops_ref(ko, 1, ra_ids[i], &kp[n].key, &kp[n].cert,
		    NULL)) != SCEP_OK)
			goto out;
		n++;
	}
	if (ca_id != 0) {
		if ((r = keyops_ref(ko, 0, ca_id, &kp[n].key, &kp[n].cert,
		    NULL)) != SCEP_OK)
			goto out;
		n++;
	}
	r = scep_env_decrypt(env, env_len, kp, n, algs, out, out_len,
	    cipher_nid);
 out:
	for (i = 0; i < n; i++) {
		EVP_PKEY_free(kp[i].key);
		X509_free(kp[i].cert);
	}
	return r;
}

/* The signing identity of a reply: the RA, or the CA when ra_id == 0. */
static int
signer_ref(struct keyops *ko, int64_t ra_id, int64_t ca_id, EVP_PKEY **key,
    X509 **cert)
{
	int64_t	 owner = 0;
	int	 r;

	if (ra_id == 0)
		return keyops_ref(ko, 0, ca_id, key, cert, NULL);
	if ((r = keyops_ref(ko, 1, ra_id, key, cert, &owner)) != SCEP_OK)
		return r;
	if (ca_id != 0 && owner != ca_id) {
		EVP_PKEY_free(*key);
		X509_free(*cert);
		*key = NULL;
		*cert = NULL;
		return SCEP_E_CONFIG;
	}
	return SCEP_OK;
}

int
keyops_sign_certrep(struct keyops *ko, int64_t ra_id, int64_t ca_id,
    const struct scep_reply *rep, STACK_OF(X509) *extra, uint8_t **out,
    size_t *out_len)
{
	const struct keyops_vt	*vt = NULL;
	void		*impl = NULL;
	EVP_PKEY	*key = NULL;
	X509		*cert = NULL;
	int		 r;

	*out = NULL;
	*out_len = 0;
	if (rep == NULL)
		return SCEP_E_INTERNAL;
	if (keyops_remote(ko, &vt, &impl))
		return vt->sign_certrep(impl, ra_id, ca_id, rep, extra, out,
		    out_len);
	if ((r = signer_ref(ko, ra_id, ca_id, &key, &cert)) != SCEP_OK)
		return r;
	r = scep_certrep_build(rep, key, cert, extra, out, out_len);
	EVP_PKEY_free(key);
	X509_free(cert);
	return r;
}

int
keyops_sign_nextca(struct keyops *ko, int64_t ra_id, int64_t ca_id,
    STACK_OF(X509) *next, time_t now, uint8_t **out, size_t *out_len)
{
	const struct keyops_vt	*vt = NULL;
	void		*impl = NULL;
	EVP_PKEY	*key = NULL;
	X509		*cert = NULL;
	int		 r;

	*out = NULL;
	*out_len = 0;
	if (next == NULL || sk_X509_num(next) <= 0)
		return SCEP_E_INTERNAL;
	if (keyops_remote(ko, &vt, &impl))
		return vt->sign_nextca(impl, ra_id, ca_id, next, now, out,
		    out_len);
	if ((r = signer_ref(ko, ra_id, ca_id, &key, &cert)) != SCEP_OK)
		return r;
	/* spec 5: signed by the current signing identity; SHA-256 is
	 * what every client surveyed verifies (spec 18). */
	r = scep_nextca_build(next, key, cert, NID_sha256, now, out, out_len);
	EVP_PKEY_free(key);
	X509_free(cert);
	return r;
}
