/*
 * keyops_scep.c -- the key operations that produce or consume SCEP
 * messages: open a pkcsPKIEnvelope, sign a CertRep, issue a certificate
 * and sign its CertRep in one go, sign a GetNextCACert reply.  The CMS
 * work is done by the protocol core (scep.h); this file only picks the
 * identities and lends their keys for one call.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>

#include "ca_gen.h"
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

void
issued_reply_clear(struct issued_reply *ir)
{
	if (ir == NULL)
		return;
	OPENSSL_free(ir->cert);
	OPENSSL_free(ir->reply);
	memset(ir, 0, sizeof(*ir));
}

/*
 * The in-process half of keyops_issue_reply(): the certificate is built
 * and signed, then the very object is encoded into the reply's bag --
 * never decoded again -- and the DER handed back for the store.
 */
static int
issue_reply_local(struct keyops *ko, int64_t ca_id, int64_t ra_id,
    const struct issue_tmpl *t, int chain, const struct scep_reply *rep,
    struct issued_reply *out)
{
	struct scep_reply	 rp;
	STACK_OF(X509)		*bag = NULL;
	EVP_PKEY		*ca_key = NULL, *skey = NULL;
	X509			*ca_cert = NULL, *scert = NULL, *x = NULL;
	uint8_t			*p7 = NULL;
	size_t			 p7len = 0;
	int			 r;

	if ((r = keyops_ref(ko, 0, ca_id, &ca_key, &ca_cert, NULL)) !=
	    SCEP_OK)
		return r;
	/* The signer is checked before anything is issued. */
	if ((r = signer_ref(ko, ra_id, ca_id, &skey, &scert)) != SCEP_OK)
		goto out;
	/* The serial is ours to choose (issue 8): 128 random bits. */
	if ((r = ca_serial_random(out->serial)) != SCEP_OK ||
	    (r = ca_issue_build_signed(ca_key, ca_cert, t, out->serial,
	    sizeof(out->serial), &x, &out->cert, &out->cert_len)) != SCEP_OK)
		goto out;
	if ((r = ca_asn1_time_get(X509_get0_notBefore(x),
	    &out->not_before)) != SCEP_OK ||
	    (r = ca_asn1_time_get(X509_get0_notAfter(x),
	    &out->not_after)) != SCEP_OK)
		goto out;
	/* Spec 9.2: the new certificate first, then its CA. */
	r = SCEP_E_NOMEM;
	if ((bag = sk_X509_new_null()) == NULL || !sk_X509_push(bag, x) ||
	    (chain && !sk_X509_push(bag, ca_cert)))
		goto out;
	if ((r = scep_certs_only(bag, NULL, &p7, &p7len)) != SCEP_OK)
		goto out;
	rp = *rep;
	rp.payload = p7;
	rp.payload_len = p7len;
	r = scep_certrep_build(&rp, skey, scert, NULL, &out->reply,
	    &out->reply_len);
 out:
	if (r != SCEP_OK)
		issued_reply_clear(out);
	sk_X509_free(bag);		/* borrowed entries */
	OPENSSL_free(p7);
	X509_free(x);
	EVP_PKEY_free(ca_key);
	X509_free(ca_cert);
	EVP_PKEY_free(skey);
	X509_free(scert);
	return r;
}

int
keyops_issue_reply(struct keyops *ko, int64_t ca_id, int64_t ra_id,
    const struct issue_tmpl *t, int chain, const struct scep_reply *rep,
    struct issued_reply *out)
{
	const struct keyops_vt	*vt = NULL;
	void			*impl = NULL;

	if (out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (ko == NULL || t == NULL || rep == NULL ||
	    rep->status != SCEP_STATUS_SUCCESS || rep->payload != NULL ||
	    rep->payload_len != 0 || rep->recipient == NULL ||
	    (chain != 0 && chain != 1))
		return SCEP_E_INTERNAL;
	if (keyops_remote(ko, &vt, &impl))
		return vt->issue_reply(impl, ca_id, ra_id, t, chain, rep, out);
	return issue_reply_local(ko, ca_id, ra_id, t, chain, rep, out);
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
