/*
 * scep_attr.c -- the SCEP signed attributes (RFC 8894 3.2.1, spec 6.3)
 * and the algorithm tables of spec 6.4/6.5.
 *
 * The attribute OIDs are kept as their DER content octets in a const
 * table.  Looking an attribute up compares bytes (OBJ_length and
 * OBJ_get0_data), so decoding needs neither an ASN1_OBJECT nor any global
 * state; adding one makes a short-lived object with OBJ_txt2obj(txt, 1)
 * ("1": numerical form only, no lookup and no OBJ_create side effect).
 */
#include <limits.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "scep.h"
#include "scep_int.h"

static const struct {
	const char	*txt;
	uint8_t		 der[10];	/* content octets of the OID */
	size_t		 len;
} oidtab[SCEP_OID__MAX] = {
	[SCEP_OID_MESSAGETYPE] = { "2.16.840.1.113733.1.9.2",
	    { 0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x45, 0x01, 0x09, 0x02 }, 10 },
	[SCEP_OID_PKISTATUS] = { "2.16.840.1.113733.1.9.3",
	    { 0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x45, 0x01, 0x09, 0x03 }, 10 },
	[SCEP_OID_FAILINFO] = { "2.16.840.1.113733.1.9.4",
	    { 0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x45, 0x01, 0x09, 0x04 }, 10 },
	[SCEP_OID_SENDERNONCE] = { "2.16.840.1.113733.1.9.5",
	    { 0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x45, 0x01, 0x09, 0x05 }, 10 },
	[SCEP_OID_RECIPIENTNONCE] = { "2.16.840.1.113733.1.9.6",
	    { 0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x45, 0x01, 0x09, 0x06 }, 10 },
	[SCEP_OID_TRANSID] = { "2.16.840.1.113733.1.9.7",
	    { 0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x45, 0x01, 0x09, 0x07 }, 10 },
	[SCEP_OID_FAILINFOTEXT] = { "1.3.6.1.5.5.7.24.1",
	    { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x18, 0x01 }, 8 },
};

/* Digests of spec 6.5 and the bit that allows each. */
static const struct {
	int		 nid;
	unsigned int	 alg;
} mdtab[] = {
	{ NID_sha1,	SCEP_ALG_SHA1 },
	{ NID_sha224,	SCEP_ALG_SHA224 },
	{ NID_sha256,	SCEP_ALG_SHA256 },
	{ NID_sha384,	SCEP_ALG_SHA384 },
	{ NID_sha512,	SCEP_ALG_SHA512 },
	{ NID_md5,	SCEP_ALG_MD5 },		/* legacy switch only */
};

/* Content-encryption algorithms of spec 6.4 (CBC only: no mainstream
 * client asks for GCM, and the core never sends it). */
static const struct {
	int		 nid;
	unsigned int	 alg;
} ciphertab[] = {
	{ NID_aes_128_cbc,	SCEP_ALG_AES },
	{ NID_aes_192_cbc,	SCEP_ALG_AES },
	{ NID_aes_256_cbc,	SCEP_ALG_AES },
	{ NID_des_ede3_cbc,	SCEP_ALG_DES3 },
	{ NID_des_cbc,		SCEP_ALG_DES },	/* legacy switch only */
};

const char *
scep_oid_txt(enum scep_oid which)
{
	if ((unsigned int)which >= SCEP_OID__MAX)
		return "?";
	return oidtab[which].txt;
}

ASN1_OBJECT *
scep_oid_obj(enum scep_oid which)
{
	if ((unsigned int)which >= SCEP_OID__MAX)
		return NULL;
	return OBJ_txt2obj(oidtab[which].txt, 1);
}

int
scep_oid_is(const ASN1_OBJECT *obj, enum scep_oid which)
{
	if (obj == NULL || (unsigned int)which >= SCEP_OID__MAX)
		return 0;
	if (OBJ_length(obj) != oidtab[which].len)
		return 0;
	return memcmp(OBJ_get0_data(obj), oidtab[which].der,
	    oidtab[which].len) == 0;
}

/*
 * Shared by both lookups: "match" says whether an attribute's OID is the
 * one wanted.  The count of signed attributes is bounded by the message
 * size (SCEP_MAX_MSG_DER), so the linear scan is bounded too.
 */
static int
attr_find(CMS_SignerInfo *si, int (*match)(const ASN1_OBJECT *, const void *),
    const void *arg, ASN1_TYPE **val)
{
	X509_ATTRIBUTE	*at, *found = NULL;	/* get0: owned by si */
	int		 i, n;

	*val = NULL;
	n = CMS_signed_get_attr_count(si);
	for (i = 0; i < n; i++) {
		at = CMS_signed_get_attr(si, i);
		if (at == NULL || !match(X509_ATTRIBUTE_get0_object(at), arg))
			continue;
		if (found != NULL)
			return SCEP_E_BADATTR;	/* spec 6.3: exactly once */
		found = at;
	}
	if (found == NULL)
		return SCEP_E_NOTFOUND;
	if (X509_ATTRIBUTE_count(found) != 1)
		return SCEP_E_BADATTR;		/* exactly one value */
	if ((*val = X509_ATTRIBUTE_get0_type(found, 0)) == NULL)
		return SCEP_E_BADATTR;
	return SCEP_OK;
}

static int
match_scep(const ASN1_OBJECT *obj, const void *arg)
{
	return scep_oid_is(obj, *(const enum scep_oid *)arg);
}

static int
match_nid(const ASN1_OBJECT *obj, const void *arg)
{
	const ASN1_OBJECT *want = arg;

	return obj != NULL && OBJ_cmp(obj, want) == 0;
}

int
scep_attr_find(CMS_SignerInfo *si, enum scep_oid which, ASN1_TYPE **val)
{
	*val = NULL;
	if ((unsigned int)which >= SCEP_OID__MAX)
		return SCEP_E_INTERNAL;
	return attr_find(si, match_scep, &which, val);
}

int
scep_attr_find_nid(CMS_SignerInfo *si, int nid, ASN1_TYPE **val)
{
	const ASN1_OBJECT *want;	/* get0: static built-in object */

	*val = NULL;
	if ((want = OBJ_nid2obj(nid)) == NULL)
		return SCEP_E_INTERNAL;
	return attr_find(si, match_nid, want, val);
}

int
scep_attr_add(CMS_SignerInfo *si, enum scep_oid which, int type,
    const void *data, size_t len, int twice)
{
	ASN1_OBJECT	*obj = NULL;
	X509_ATTRIBUTE	*at = NULL;
	int		 r = SCEP_E_NOMEM;

	if (len > INT_MAX || data == NULL)
		return SCEP_E_INTERNAL;
	if ((obj = scep_oid_obj(which)) == NULL)
		goto out;
	/* STYLE H17: a real length, so the value is copied as bytes. */
	if ((at = X509_ATTRIBUTE_create_by_OBJ(NULL, obj, type, data,
	    (int)len)) == NULL)
		goto out;
	if (twice && !X509_ATTRIBUTE_set1_data(at, type, data, (int)len))
		goto out;
	if (!CMS_signed_add1_attr(si, at))
		goto out;
	r = SCEP_OK;
 out:
	X509_ATTRIBUTE_free(at);
	ASN1_OBJECT_free(obj);
	return r;
}

unsigned int
scep_md_alg(int md_nid)
{
	size_t i;

	for (i = 0; i < sizeof(mdtab) / sizeof(mdtab[0]); i++)
		if (mdtab[i].nid == md_nid)
			return mdtab[i].alg;
	return 0;
}

unsigned int
scep_cipher_alg(int cipher_nid)
{
	size_t i;

	for (i = 0; i < sizeof(ciphertab) / sizeof(ciphertab[0]); i++)
		if (ciphertab[i].nid == cipher_nid)
			return ciphertab[i].alg;
	return 0;
}

/*
 * Explicit fetches (OpenSSL 3 "explicit fetching") from the default
 * library context, each done once per process (issue 7): a fetch is a
 * method-store lookup under a read lock, which under load is contended on
 * every envelope, signature and digest.  A slot is written once
 * (compare-and-swap) and never changed; it keeps its own reference for
 * the life of the process, and each caller gets another (EVP_MD_up_ref:
 * an atomic increment).  This is the core's only process-wide state, and
 * it is a cache of constants.  A failed fetch is an expected condition
 * (single DES without the legacy provider): its error entries are
 * dropped and it is not cached, so DES appears once the legacy provider
 * is loaded.
 */
static EVP_MD		*mdcache[sizeof(mdtab) / sizeof(mdtab[0])];
static EVP_CIPHER	*ciphercache[sizeof(ciphertab) / sizeof(ciphertab[0])];

EVP_MD *
scep_md_fetch(int md_nid)
{
	EVP_MD		*md, *cur = NULL;
	const char	*name;
	size_t		 i;

	for (i = 0; i < sizeof(mdtab) / sizeof(mdtab[0]); i++)
		if (mdtab[i].nid == md_nid)
			break;
	if (i == sizeof(mdtab) / sizeof(mdtab[0]) ||
	    (name = OBJ_nid2sn(md_nid)) == NULL)
		return NULL;
	if ((md = __atomic_load_n(&mdcache[i], __ATOMIC_ACQUIRE)) == NULL) {
		ERR_set_mark();
		md = EVP_MD_fetch(NULL, name, NULL);
		ERR_pop_to_mark();
		if (md == NULL)
			return NULL;
		if (!__atomic_compare_exchange_n(&mdcache[i], &cur, md, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			EVP_MD_free(md);	/* another thread was first */
			md = cur;
		}
	}
	return EVP_MD_up_ref(md) ? md : NULL;
}

EVP_CIPHER *
scep_cipher_fetch(int cipher_nid)
{
	EVP_CIPHER	*c, *cur = NULL;
	const char	*name;
	size_t		 i;

	for (i = 0; i < sizeof(ciphertab) / sizeof(ciphertab[0]); i++)
		if (ciphertab[i].nid == cipher_nid)
			break;
	if (i == sizeof(ciphertab) / sizeof(ciphertab[0]) ||
	    (name = OBJ_nid2sn(cipher_nid)) == NULL)
		return NULL;
	if ((c = __atomic_load_n(&ciphercache[i], __ATOMIC_ACQUIRE)) == NULL) {
		ERR_set_mark();
		c = EVP_CIPHER_fetch(NULL, name, NULL);
		ERR_pop_to_mark();
		if (c == NULL)
			return NULL;
		if (!__atomic_compare_exchange_n(&ciphercache[i], &cur, c, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			EVP_CIPHER_free(c);
			c = cur;
		}
	}
	return EVP_CIPHER_up_ref(c) ? c : NULL;
}
