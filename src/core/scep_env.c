/*
 * scep_env.c -- the pkcsPKIEnvelope (RFC 8894 3.2.2, spec 6.4): open a
 * request's CMS EnvelopedData with one of the endpoint's keys, and build
 * one for a reply or a client request.
 *
 * Opening, in order:
 *   1. size and header gate, then a light ASN.1 template of our own
 *      ("peek") that exposes what OpenSSL's CMS API keeps private: the
 *      content-encryption algorithm and the length of the ciphertext.
 *      A cipher the endpoint does not allow is refused here, BEFORE any
 *      private-key operation, so it yields SCEP_E_BADALG and not a
 *      decryption error (spec 7.3 badAlg).
 *   2. libcrypto's CMS decoder for the real work.
 *   3. For each key, the KeyTransRecipientInfos whose rid names its
 *      certificate -- issuerAndSerialNumber with a tolerant Name compare
 *      (re-ordered RDNs, jscep issue #180) or subjectKeyIdentifier -- are
 *      unwrapped; if no rid names any of our certificates, every key is
 *      tried blind (clients that encrypt to a certificate we rotated or
 *      that mangled the issuer).
 *
 * Bleichenbacher / MMA: we never report whether the RSA unwrap of the
 * content-encryption key succeeded.  After CMS_RecipientInfo_decrypt we
 * discard its result and always go on to decrypt the content.  OpenSSL
 * 3.0 relies on the same idea (cms_enc.c, ossl_cms_EncryptedContent_
 * init_bio): when no key was unwrapped, or its length does not fit the
 * cipher, it decrypts with a RANDOM key instead of failing, so a bad
 * PKCS#1 v1.5 block and a good one carrying a wrong key both end as the
 * same content padding failure (or garbage), and we answer both with
 * SCEP_E_DECRYPT.  For the blind path we call CMS_decrypt_set1_pkey with
 * no certificate, which in 3.0 tries every ktri, never stops at the first
 * success and always returns success for key transport.  The PKCS#1 v1.5
 * padding check itself is constant time in OpenSSL 3.0's RSA provider;
 * 3.0 has no "implicit rejection" (that arrived in 3.2), which is why the
 * random-key behaviour matters.  The decrypted content must then be one
 * complete DER SEQUENCE; garbage from a random key almost never is, which
 * also keeps the blind path from stopping at a wrong key.
 */
#include <limits.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "scep.h"
#include "scep_int.h"

/*
 * The peek: ContentInfo { contentType, [0] EXPLICIT EnvelopedData }, with
 * RFC 5652 6.1 EnvelopedData reduced to what we read.  RecipientInfos
 * are kept as ANY (counted only); originatorInfo and unprotectedAttrs are
 * skipped.
 */
struct env_eci {
	ASN1_OBJECT		*type;		/* MUST be id-data */
	X509_ALGOR		*alg;		/* content encryption */
	ASN1_OCTET_STRING	*data;		/* [0] IMPLICIT, may be BER
						 * constructed */
};

ASN1_SEQUENCE(ENV_ECI) = {
	ASN1_SIMPLE(struct env_eci, type, ASN1_OBJECT),
	ASN1_SIMPLE(struct env_eci, alg, X509_ALGOR),
	ASN1_IMP_OPT(struct env_eci, data, ASN1_OCTET_STRING, 0),
} static_ASN1_SEQUENCE_END_name(struct env_eci, ENV_ECI)

struct env_data {
	ASN1_INTEGER		*version;
	STACK_OF(ASN1_TYPE)	*originator;
	STACK_OF(ASN1_TYPE)	*ris;
	struct env_eci		*eci;
	STACK_OF(ASN1_TYPE)	*unprot;
};

ASN1_SEQUENCE(ENV_DATA) = {
	ASN1_SIMPLE(struct env_data, version, ASN1_INTEGER),
	ASN1_IMP_SEQUENCE_OF_OPT(struct env_data, originator, ASN1_ANY, 0),
	ASN1_SET_OF(struct env_data, ris, ASN1_ANY),
	ASN1_SIMPLE(struct env_data, eci, ENV_ECI),
	ASN1_IMP_SET_OF_OPT(struct env_data, unprot, ASN1_ANY, 1),
} static_ASN1_SEQUENCE_END_name(struct env_data, ENV_DATA)

struct env_ci {
	ASN1_OBJECT		*type;
	struct env_data		*env;
};

ASN1_SEQUENCE(ENV_CI) = {
	ASN1_SIMPLE(struct env_ci, type, ASN1_OBJECT),
	ASN1_EXP(struct env_ci, env, ENV_DATA, 0),
} static_ASN1_SEQUENCE_END_name(struct env_ci, ENV_CI)

static void
peek_free(struct env_ci *ci)
{
	ASN1_item_free((ASN1_VALUE *)ci, ASN1_ITEM_rptr(ENV_CI));
}

/* A Name with only entry "i" of "n" (for the RDN-order-blind compare). */
static X509_NAME *
name_one(const X509_NAME *n, int i)
{
	X509_NAME *s;

	if ((s = X509_NAME_new()) == NULL)
		return NULL;
	if (!X509_NAME_add_entry(s, X509_NAME_get_entry(n, i), -1, 0)) {
		X509_NAME_free(s);
		return NULL;
	}
	return s;
}

/*
 * Tolerant Name equality (spec 6.4): X509_NAME_cmp's canonical compare
 * (case and white space folded) first; failing that, the same multiset of
 * attribute values in any order.  Bounded by SCEP_MAX_RDNS entries.
 */
static int
name_eq(const X509_NAME *a, const X509_NAME *b)
{
	X509_NAME	*bs[SCEP_MAX_RDNS];
	X509_NAME	*as = NULL;
	int		 used[SCEP_MAX_RDNS];
	int		 i, j, n, found, eq = 0;

	if (X509_NAME_cmp(a, b) == 0)
		return 1;
	n = X509_NAME_entry_count(a);
	if (n <= 0 || n > SCEP_MAX_RDNS || n != X509_NAME_entry_count(b))
		return 0;
	memset(bs, 0, sizeof(bs));
	memset(used, 0, sizeof(used));
	for (j = 0; j < n; j++)
		if ((bs[j] = name_one(b, j)) == NULL)
			goto out;
	for (i = 0; i < n; i++) {
		if ((as = name_one(a, i)) == NULL)
			goto out;
		found = 0;
		for (j = 0; j < n && !found; j++) {
			if (!used[j] && X509_NAME_cmp(as, bs[j]) == 0) {
				used[j] = 1;
				found = 1;
			}
		}
		X509_NAME_free(as);
		as = NULL;
		if (!found)
			goto out;
	}
	eq = 1;
 out:
	X509_NAME_free(as);
	for (j = 0; j < n; j++)
		X509_NAME_free(bs[j]);
	return eq;
}

/* Does the ktri's rid name "cert"? */
static int
rid_match(CMS_RecipientInfo *ri, X509 *cert)
{
	ASN1_OCTET_STRING	*keyid = NULL;	/* get0: owned by ri */
	X509_NAME		*issuer = NULL;	/* get0 */
	ASN1_INTEGER		*sno = NULL;	/* get0 */
	const ASN1_OCTET_STRING	*ski;		/* get0: owned by cert */

	if (CMS_RecipientInfo_ktri_get0_signer_id(ri, &keyid, &issuer,
	    &sno) != 1)
		return 0;
	if (keyid != NULL) {
		ski = X509_get0_subject_key_id(cert);
		return ski != NULL && ASN1_OCTET_STRING_cmp(keyid, ski) == 0;
	}
	if (issuer == NULL || sno == NULL)
		return 0;
	if (ASN1_INTEGER_cmp(sno, X509_get0_serialNumber(cert)) != 0)
		return 0;
	return name_eq(issuer, X509_get_issuer_name(cert));
}

/*
 * Decrypt the content with whatever content-encryption key the CMS
 * object now holds (a random one when the unwrap failed; see the top of
 * the file).  "cap" is the ciphertext length, an upper bound of the
 * plaintext.  The result must be one complete SEQUENCE.
 */
static int
content_decrypt(CMS_ContentInfo *cms, size_t cap, uint8_t **out,
    size_t *out_len)
{
	BIO			*cont = NULL, *cb;	/* cb: get0 in chain */
	ASN1_SEQUENCE_ANY	*seq = NULL;
	uint8_t			*buf = NULL;
	const unsigned char	*p;
	size_t			 got = 0;
	int			 n, r = SCEP_E_DECRYPT;

	*out = NULL;
	*out_len = 0;
	ERR_set_mark();
	if ((buf = OPENSSL_malloc(cap + 1)) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	if ((cont = CMS_dataInit(cms, NULL)) == NULL)
		goto out;
	for (;;) {
		if (got > cap)
			goto out;
		/* One spare byte: reading more than cap means a broken
		 * cipher layer, never a longer plaintext. */
		n = BIO_read(cont, buf + got, (int)(cap + 1 - got));
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if ((cb = BIO_find_type(cont, BIO_TYPE_CIPHER)) == NULL ||
	    BIO_get_cipher_status(cb) != 1)
		goto out;		/* RFC 5652 6.3 padding */
	if (got == 0 || got > SCEP_MAX_INNER_DER)
		goto out;
	p = buf;
	if ((seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long)got)) == NULL ||
	    p != buf + got)
		goto out;
	*out = buf;
	*out_len = got;
	buf = NULL;
	r = SCEP_OK;
 out:
	/* Nothing about a failed decryption is worth keeping (MMA). */
	ERR_pop_to_mark();
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	BIO_free_all(cont);
	OPENSSL_clear_free(buf, cap + 1);
	return r;
}

/* Unwrap with the rid-matched key, then decrypt, whatever the unwrap
 * said (see the top of the file). */
static int
try_ri(CMS_ContentInfo *cms, CMS_RecipientInfo *ri, EVP_PKEY *key,
    size_t cap, uint8_t **out, size_t *out_len)
{
	if (!EVP_PKEY_up_ref(key))
		return SCEP_E_NOMEM;
	ERR_set_mark();
	CMS_RecipientInfo_set0_pkey(ri, key);	/* takes the reference */
	(void)CMS_RecipientInfo_decrypt(cms, ri);
	CMS_RecipientInfo_set0_pkey(ri, NULL);	/* drops it */
	ERR_pop_to_mark();
	return content_decrypt(cms, cap, out, out_len);
}

/* The blind path: OpenSSL tries the key on every ktri (no cert). */
static int
try_blind(CMS_ContentInfo *cms, EVP_PKEY *key, size_t cap, uint8_t **out,
    size_t *out_len)
{
	ERR_set_mark();
	(void)CMS_decrypt_set1_pkey(cms, key, NULL);
	ERR_pop_to_mark();
	return content_decrypt(cms, cap, out, out_len);
}

static int
is_rsa(EVP_PKEY *k)
{
	return k != NULL && EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA;
}

int
scep_env_decrypt(const uint8_t *env, size_t env_len,
    const struct scep_keypair *keys, size_t nkeys, unsigned int algs,
    uint8_t **out, size_t *out_len, int *cipher_nid)
{
	struct env_ci			*ci = NULL;
	CMS_ContentInfo			*cms = NULL;
	STACK_OF(CMS_RecipientInfo)	*ris;		/* get0: cms */
	CMS_RecipientInfo		*ri;		/* get0: cms */
	X509_ALGOR			*kalg;		/* get0: ri */
	const ASN1_OBJECT		*obj = NULL;
	EVP_CIPHER			*c = NULL;
	const unsigned char		*p = env;
	size_t				 k, cap;
	int				 i, nri, cnid, kt, nktri = 0;
	int				 matched = 0, r;

	*out = NULL;
	*out_len = 0;
	if (cipher_nid != NULL)
		*cipher_nid = NID_undef;
	if (keys == NULL && nkeys != 0)
		return SCEP_E_INTERNAL;
	if ((r = scep_der_precheck(env, env_len, SCEP_MAX_MSG_DER)) !=
	    SCEP_OK)
		return r;

	/* 1. Peek: structure, cipher, ciphertext size. */
	ERR_set_mark();
	ci = (struct env_ci *)ASN1_item_d2i(NULL, &p, (long)env_len,
	    ASN1_ITEM_rptr(ENV_CI));
	ERR_pop_to_mark();
	if (ci == NULL) {
		r = SCEP_E_MALFORMED;
		goto out;
	}
	if (p != env + env_len) {
		r = SCEP_E_TRAILING;
		goto out;
	}
	r = SCEP_E_MALFORMED;
	if (OBJ_obj2nid(ci->type) != NID_pkcs7_enveloped ||
	    OBJ_obj2nid(ci->env->eci->type) != NID_pkcs7_data ||
	    ci->env->eci->data == NULL ||
	    ASN1_STRING_length(ci->env->eci->data) <= 0)
		goto out;
	cap = (size_t)ASN1_STRING_length(ci->env->eci->data);
	if (cap > SCEP_MAX_INNER_DER + EVP_MAX_BLOCK_LENGTH) {
		r = SCEP_E_TOOBIG;
		goto out;
	}
	if ((nri = sk_ASN1_TYPE_num(ci->env->ris)) <= 0)
		goto out;
	if (nri > SCEP_MAX_RECIPIENTS) {
		r = SCEP_E_TOOBIG;
		goto out;
	}
	X509_ALGOR_get0(&obj, NULL, NULL, ci->env->eci->alg);
	cnid = OBJ_obj2nid(obj);
	if ((scep_cipher_alg(cnid) & algs) == 0 ||
	    (c = scep_cipher_fetch(cnid)) == NULL) {
		r = SCEP_E_BADALG;	/* before any key is used */
		goto out;
	}

	/* 2. The CMS object that does the work. */
	p = env;
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)env_len)) == NULL ||
	    p != env + env_len ||
	    (ris = CMS_get0_RecipientInfos(cms)) == NULL ||
	    sk_CMS_RecipientInfo_num(ris) != nri)
		goto out;

	/* Key transport must be RSA PKCS#1 v1.5 or RSAES-OAEP. */
	for (i = 0; i < nri; i++) {
		ri = sk_CMS_RecipientInfo_value(ris, i);
		kt = CMS_RecipientInfo_type(ri);
		if (kt != CMS_RECIPINFO_TRANS)
			continue;
		kalg = NULL;
		if (CMS_RecipientInfo_ktri_get0_algs(ri, NULL, NULL,
		    &kalg) != 1 || kalg == NULL)
			goto out;
		X509_ALGOR_get0(&obj, NULL, NULL, kalg);
		if (OBJ_obj2nid(obj) != NID_rsaEncryption &&
		    OBJ_obj2nid(obj) != NID_rsaesOaep)
			continue;
		nktri++;
	}
	if (nktri == 0) {
		/* pwri (EC clients) or unknown key management: spec 6.4
		 * wants a clean badAlg. */
		r = SCEP_E_BADALG;
		goto out;
	}

	/* 3a. Recipients whose rid names one of our certificates. */
	r = SCEP_E_DECRYPT;
	for (k = 0; k < nkeys; k++) {
		if (!is_rsa(keys[k].key) || keys[k].cert == NULL)
			continue;
		for (i = 0; i < nri; i++) {
			ri = sk_CMS_RecipientInfo_value(ris, i);
			if (CMS_RecipientInfo_type(ri) != CMS_RECIPINFO_TRANS ||
			    !rid_match(ri, keys[k].cert))
				continue;
			matched = 1;
			if ((r = try_ri(cms, ri, keys[k].key, cap, out,
			    out_len)) == SCEP_OK || r == SCEP_E_NOMEM)
				goto done;
		}
	}
	/* 3b. No rid is ours: try every key blind. */
	for (k = 0; !matched && k < nkeys; k++) {
		if (!is_rsa(keys[k].key))
			continue;
		if ((r = try_blind(cms, keys[k].key, cap, out, out_len)) ==
		    SCEP_OK || r == SCEP_E_NOMEM)
			goto done;
	}
	r = SCEP_E_DECRYPT;
	goto out;
 done:
	if (r == SCEP_OK && cipher_nid != NULL)
		*cipher_nid = cnid;
 out:
	EVP_CIPHER_free(c);
	CMS_ContentInfo_free(cms);
	peek_free(ci);
	return r;
}

int
scep_env_encrypt_ex(const uint8_t *data, size_t len, X509 *recipient,
    int cipher_nid, unsigned int flags, uint8_t **out, size_t *out_len)
{
	CMS_ContentInfo		*cms = NULL;
	CMS_RecipientInfo	*ri;		/* get0: cms */
	EVP_PKEY_CTX		*pctx;		/* get0: ri */
	EVP_CIPHER		*c = NULL;
	EVP_MD			*md = NULL;
	BIO			*in = NULL;
	unsigned int		 rflags = 0;
	int			 oaep, r = SCEP_E_INTERNAL;

	*out = NULL;
	*out_len = 0;
	if ((data == NULL && len != 0) || recipient == NULL)
		return SCEP_E_INTERNAL;
	if (len > SCEP_MAX_MSG_DER)
		return SCEP_E_TOOBIG;
	/* Key transport is RSA only; an EC requester cannot receive a
	 * reply this way (spec 6.4, 9.2: badAlg). */
	if (!is_rsa(X509_get0_pubkey(recipient)))
		return SCEP_E_BADALG;
	if ((c = scep_cipher_fetch(cipher_nid)) == NULL)
		return SCEP_E_BADALG;

	oaep = (flags & (SCEP_ENV_OAEP | SCEP_ENV_OAEP_SHA256)) != 0;
	if (oaep)
		rflags |= CMS_KEY_PARAM;
	if (flags & SCEP_ENV_RID_SKI)
		rflags |= CMS_USE_KEYID;
	r = SCEP_E_NOMEM;
	if ((cms = CMS_EnvelopedData_create(c)) == NULL)
		goto out;
	r = SCEP_E_INTERNAL;
	/* Created "detached"; the ciphertext belongs inside (CMS_encrypt
	 * does the same). */
	if (!CMS_set_detached(cms, 0))
		goto out;
	if ((ri = CMS_add1_recipient_cert(cms, recipient, rflags)) == NULL)
		goto out;
	if (oaep) {
		if ((pctx = CMS_RecipientInfo_get0_pkey_ctx(ri)) == NULL ||
		    EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_OAEP_PADDING) <= 0)
			goto out;
		if (flags & SCEP_ENV_OAEP_SHA256) {
			if ((md = scep_md_fetch(NID_sha256)) == NULL ||
			    EVP_PKEY_CTX_set_rsa_oaep_md(pctx, md) <= 0 ||
			    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0)
				goto out;
		}
	}
	r = SCEP_E_NOMEM;
	if ((in = BIO_new_mem_buf(data != NULL ? data : (const uint8_t *)"",
	    (int)len)) == NULL)
		goto out;
	r = SCEP_E_INTERNAL;
	if (!CMS_final(cms, in, NULL, CMS_BINARY))
		goto out;
	r = scep_cms_der(cms, out, out_len);
 out:
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	EVP_MD_free(md);
	EVP_CIPHER_free(c);
	return r;
}

int
scep_env_encrypt(const uint8_t *data, size_t len, X509 *recipient,
    int cipher_nid, uint8_t **out, size_t *out_len)
{
	return scep_env_encrypt_ex(data, len, recipient, cipher_nid, 0, out,
	    out_len);
}
