/*
 * keyops.c -- the table of loaded CA and RA identities, and the key
 * operations that need no protocol code: issuing a certificate and signing
 * a CRL.  The SCEP operations (decrypt, sign a CertRep or a GetNextCACert
 * reply) are in keyops_scep.c.
 *
 * Concurrency: loads are rare and uses are frequent, so the table is
 * behind a rwlock.  An operation takes references to the key and the
 * certificate under the read lock and then works without the lock, so a
 * slow RSA-8192 signature never blocks a reload and a reload never frees a
 * key that is in use.  A replaced identity is kept on a "retired" list
 * until keyops_free(), because keyops_ca_cert()/keyops_ra_cert() hand out
 * borrowed pointers that callers may still hold.
 *
 * Sharing one EVP_PKEY between threads is safe in OpenSSL 3 as long as no
 * thread modifies it: every operation makes its own EVP_PKEY_CTX.  X509
 * objects cache their decoded extensions lazily under their own lock; we
 * fill that cache at load time anyway.
 *
 * A table made by keyops_new_vt() (keyops_impl.h) holds no key at all: it
 * forwards every call to another implementation (the isolated key
 * processes of src/keyproc).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca_gen.h"
#include "ca_p11.h"
#include "ca_int.h"
#include "keyops.h"
#include "keyops_impl.h"
#include "scep_err.h"

/* One loaded identity. */
struct kident {
	int64_t		 id;
	int64_t		 ca_id;		/* RA: the issuing CA; CA: 0 */
	EVP_PKEY	*key;		/* owned */
	X509		*cert;		/* owned */
	struct kident	*next;		/* retired list */
};

/* A table of identities of one kind, unsorted (a few dozen at most). */
struct ktable {
	struct kident	**v;		/* owned, and the entries too */
	size_t		  n;
	size_t		  cap;
};

struct keyops {
	pthread_rwlock_t lock;
	struct ktable	 ca;
	struct ktable	 ra;
	struct kident	*retired;	/* owned: replaced, freed at the end */
	const struct keyops_vt *vt;	/* borrowed; NULL: in-process table */
	void		*impl;		/* owned through vt->free */
};

static void
kident_free(struct kident *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->key);
	X509_free(k->cert);
	free(k);
}

int
keyops_new(struct keyops **out)
{
	struct keyops	*ko = NULL;

	*out = NULL;
	if ((ko = calloc(1, sizeof(*ko))) == NULL)
		return SCEP_E_NOMEM;
	if (pthread_rwlock_init(&ko->lock, NULL) != 0) {
		free(ko);
		return SCEP_E_INTERNAL;
	}
	*out = ko;
	return SCEP_OK;
}

int
keyops_new_vt(const struct keyops_vt *vt, void *impl, struct keyops **out)
{
	struct keyops	*ko = NULL;
	int		 r;

	*out = NULL;
	if (vt == NULL || vt->free == NULL)
		return SCEP_E_INTERNAL;
	if ((r = keyops_new(&ko)) != SCEP_OK) {
		vt->free(impl);
		return r;
	}
	ko->vt = vt;
	ko->impl = impl;
	*out = ko;
	return SCEP_OK;
}

int
keyops_remote(struct keyops *ko, const struct keyops_vt **vt, void **impl)
{
	if (ko == NULL || ko->vt == NULL)
		return 0;
	*vt = ko->vt;
	*impl = ko->impl;
	return 1;
}

static void
ktable_clear(struct ktable *t)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		kident_free(t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

void
keyops_free(struct keyops *ko)
{
	struct kident	*k = NULL, *next = NULL;

	if (ko == NULL)
		return;
	if (ko->vt != NULL)
		ko->vt->free(ko->impl);
	ktable_clear(&ko->ca);
	ktable_clear(&ko->ra);
	for (k = ko->retired; k != NULL; k = next) {
		next = k->next;
		kident_free(k);
	}
	pthread_rwlock_destroy(&ko->lock);
	free(ko);
}

/* The entry for "id", or NULL.  Caller holds the lock. */
static struct kident *
ktable_find(const struct ktable *t, int64_t id)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		if (t->v[i]->id == id)
			return t->v[i];
	return NULL;
}

/* Insert or replace "k" (take).  Caller holds the write lock. */
static int
ktable_put(struct keyops *ko, struct ktable *t, struct kident *k)
{
	struct kident	**nv = NULL;
	size_t		  i, ncap;

	for (i = 0; i < t->n; i++) {
		if (t->v[i]->id == k->id) {
			t->v[i]->next = ko->retired;
			ko->retired = t->v[i];
			t->v[i] = k;
			return SCEP_OK;
		}
	}
	if (t->n == KEYOPS_MAX_IDS)
		return SCEP_E_TOOBIG;
	if (t->n == t->cap) {
		ncap = t->cap == 0 ? 8 : t->cap * 2;
		if (ncap > KEYOPS_MAX_IDS)
			ncap = KEYOPS_MAX_IDS;
		if ((nv = realloc(t->v, ncap * sizeof(*nv))) == NULL)
			return SCEP_E_NOMEM;
		t->v = nv;
		t->cap = ncap;
	}
	t->v[t->n++] = k;
	return SCEP_OK;
}

/* Decode exactly one DER certificate. */
static int
cert_decode(const uint8_t *der, size_t len, X509 **out)
{
	const unsigned char	*p = der;
	X509			*x = NULL;

	*out = NULL;
	if (der == NULL || len == 0)
		return SCEP_E_MALFORMED;
	if (len > CA_MAX_CERT_DER)
		return SCEP_E_TOOBIG;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return SCEP_E_MALFORMED;
	if (p != der + len) {		/* STYLE H6: exact length */
		X509_free(x);
		return SCEP_E_TRAILING;
	}
	/* Fill the extension cache now, not on first use under load. */
	if ((X509_get_extension_flags(x) & EXFLAG_INVALID) != 0) {
		X509_free(x);
		return SCEP_E_MALFORMED;
	}
	*out = x;
	return SCEP_OK;
}

/* Key (take, freed on every path) and certificate into a new identity
 * (not yet in a table). */
static int
kident_make(int64_t id, EVP_PKEY *key, const uint8_t *cert_der,
    size_t cert_len, struct kident **out)
{
	struct kident	*k = NULL;
	int		 r;

	*out = NULL;
	if (id <= 0 || key == NULL) {
		EVP_PKEY_free(key);
		return SCEP_E_CONFIG;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(key);
		return SCEP_E_NOMEM;
	}
	k->id = id;
	k->key = key;
	if ((r = cert_decode(cert_der, cert_len, &k->cert)) != SCEP_OK)
		goto out;
	*out = k;
	k = NULL;
	r = SCEP_OK;
 out:
	kident_free(k);
	return r;
}

/* The certificate is checked before the key file is read, so a bad
 * certificate costs no key parse. */
static int
key_load(int64_t id, const char *key_path, const uint8_t *cert_der,
    size_t cert_len, EVP_PKEY **key)
{
	X509	*x = NULL;
	int	 r;

	*key = NULL;
	if (id <= 0 || key_path == NULL)
		return SCEP_E_CONFIG;
	if ((r = cert_decode(cert_der, cert_len, &x)) != SCEP_OK)
		return r;
	X509_free(x);
	if (ca_p11_is_uri(key_path))		/* the key stays in the token */
		return ca_p11_key_load(key_path, key);
	return ca_key_read(key_path, key);
}

int
keyops_load_ca(struct keyops *ko, int64_t ca_id, const char *key_path,
    const uint8_t *cert_der, size_t cert_len)
{
	EVP_PKEY	*key = NULL;
	int		 r;

	if (ko == NULL)
		return SCEP_E_INTERNAL;
	if (ko->vt != NULL)
		return ko->vt->load_ca(ko->impl, ca_id, key_path, cert_der,
		    cert_len);
	if ((r = key_load(ca_id, key_path, cert_der, cert_len, &key)) !=
	    SCEP_OK)
		return r;
	return keyops_load_ca_key(ko, ca_id, key, cert_der, cert_len);
}

int
keyops_load_ca_key(struct keyops *ko, int64_t ca_id, EVP_PKEY *key,
    const uint8_t *cert_der, size_t cert_len)
{
	struct kident	*k = NULL;
	int		 r;

	if (ko == NULL || ko->vt != NULL) {
		EVP_PKEY_free(key);
		return SCEP_E_INTERNAL;
	}
	if ((r = kident_make(ca_id, key, cert_der, cert_len, &k)) != SCEP_OK)
		return r;
	if ((r = ca_import_check(k->cert, k->key)) != SCEP_OK)
		goto out;
	if (pthread_rwlock_wrlock(&ko->lock) != 0) {
		r = SCEP_E_INTERNAL;
		goto out;
	}
	r = ktable_put(ko, &ko->ca, k);
	pthread_rwlock_unlock(&ko->lock);
	if (r == SCEP_OK)
		k = NULL;			/* owned by the table */
 out:
	kident_free(k);
	return r;
}

int
keyops_load_ra(struct keyops *ko, int64_t ra_id, int64_t ca_id,
    const char *key_path, const uint8_t *cert_der, size_t cert_len)
{
	EVP_PKEY	*key = NULL;
	int		 r;

	if (ko == NULL)
		return SCEP_E_INTERNAL;
	if (ko->vt != NULL)
		return ko->vt->load_ra(ko->impl, ra_id, ca_id, key_path,
		    cert_der, cert_len);
	if ((r = key_load(ra_id, key_path, cert_der, cert_len, &key)) !=
	    SCEP_OK)
		return r;
	return keyops_load_ra_key(ko, ra_id, ca_id, key, cert_der, cert_len);
}

int
keyops_load_ra_key(struct keyops *ko, int64_t ra_id, int64_t ca_id,
    EVP_PKEY *key, const uint8_t *cert_der, size_t cert_len)
{
	struct kident	*k = NULL;
	EVP_PKEY	*ca_key = NULL;
	X509		*ca_cert = NULL;
	int		 r;

	if (ko == NULL || ko->vt != NULL) {
		EVP_PKEY_free(key);
		return SCEP_E_INTERNAL;
	}
	if ((r = kident_make(ra_id, key, cert_der, cert_len, &k)) != SCEP_OK)
		return r;
	k->ca_id = ca_id;
	if ((r = ca_cert_check_pair(k->cert, k->key)) != SCEP_OK)
		goto out;
	/* spec 15: "The RA cert should not have basicConstraints CA=true"
	 * (jscep would take it for the CA). */
	r = SCEP_E_CONFIG;
	if ((X509_get_extension_flags(k->cert) & EXFLAG_CA) != 0)
		goto out;
	/* The RA must chain to its CA in the GetCACert bag (spec 4.3). */
	if ((r = keyops_ref(ko, 0, ca_id, &ca_key, &ca_cert, NULL)) !=
	    SCEP_OK)
		goto out;
	r = SCEP_E_CONFIG;
	if (X509_check_issued(ca_cert, k->cert) != X509_V_OK)
		goto out;
	if (X509_verify(k->cert, ca_key) != 1)
		goto out;

	if (pthread_rwlock_wrlock(&ko->lock) != 0) {
		r = SCEP_E_INTERNAL;
		goto out;
	}
	r = ktable_put(ko, &ko->ra, k);
	pthread_rwlock_unlock(&ko->lock);
	if (r == SCEP_OK)
		k = NULL;
 out:
	EVP_PKEY_free(ca_key);
	X509_free(ca_cert);
	kident_free(k);
	return r;
}

int
keyops_ref(struct keyops *ko, int ra, int64_t id, EVP_PKEY **key,
    X509 **cert, int64_t *ca_id)
{
	struct kident	*k = NULL;
	int		 r = SCEP_E_NOTFOUND;

	*key = NULL;
	*cert = NULL;
	if (ko == NULL || ko->vt != NULL)	/* no keys in this process */
		return SCEP_E_INTERNAL;
	if (pthread_rwlock_rdlock(&ko->lock) != 0)
		return SCEP_E_INTERNAL;
	if ((k = ktable_find(ra ? &ko->ra : &ko->ca, id)) != NULL) {
		r = SCEP_E_INTERNAL;
		if (EVP_PKEY_up_ref(k->key) != 1)
			goto unlock;
		if (X509_up_ref(k->cert) != 1) {
			EVP_PKEY_free(k->key);
			goto unlock;
		}
		*key = k->key;
		*cert = k->cert;
		if (ca_id != NULL)
			*ca_id = k->ca_id;
		r = SCEP_OK;
	}
 unlock:
	pthread_rwlock_unlock(&ko->lock);
	return r;
}

/* A borrowed certificate: stays valid until keyops_free (see top). */
static X509 *
cert_get(struct keyops *ko, int ra, int64_t id)
{
	struct kident	*k = NULL;
	X509		*x = NULL;

	if (ko == NULL || pthread_rwlock_rdlock(&ko->lock) != 0)
		return NULL;
	if ((k = ktable_find(ra ? &ko->ra : &ko->ca, id)) != NULL)
		x = k->cert;
	pthread_rwlock_unlock(&ko->lock);
	return x;
}

X509 *
keyops_ca_cert(struct keyops *ko, int64_t ca_id)
{
	if (ko != NULL && ko->vt != NULL)
		return ko->vt->ca_cert(ko->impl, ca_id);
	return cert_get(ko, 0, ca_id);
}

X509 *
keyops_ra_cert(struct keyops *ko, int64_t ra_id)
{
	if (ko != NULL && ko->vt != NULL)
		return ko->vt->ra_cert(ko->impl, ra_id);
	return cert_get(ko, 1, ra_id);
}

int
keyops_issue(struct keyops *ko, int64_t ca_id, const struct issue_tmpl *t,
    X509 **out, uint8_t *serial)
{
	EVP_PKEY	*key = NULL;
	X509		*cert = NULL;
	uint8_t		 sn[ISSUE_SERIAL_LEN];
	int		 r;

	*out = NULL;
	if (ko != NULL && ko->vt != NULL)
		return ko->vt->issue(ko->impl, ca_id, t, out, serial);
	if ((r = keyops_ref(ko, 0, ca_id, &key, &cert, NULL)) != SCEP_OK)
		return r;
	/* The serial is ours to choose (issue 8): 128 random bits. */
	if ((r = ca_serial_random(sn)) == SCEP_OK)
		r = ca_issue_build(key, cert, t, sn, sizeof(sn), out);
	if (r == SCEP_OK && serial != NULL)
		memcpy(serial, sn, sizeof(sn));
	EVP_PKEY_free(key);
	X509_free(cert);
	return r;
}

int
keyops_issue_der(struct keyops *ko, int64_t ca_id, const struct issue_tmpl *t,
    uint8_t **der, size_t *der_len, uint8_t *serial)
{
	EVP_PKEY	*key = NULL;
	X509		*cert = NULL;
	uint8_t		 sn[ISSUE_SERIAL_LEN];
	int		 r;

	*der = NULL;
	*der_len = 0;
	if (ko == NULL || ko->vt != NULL)
		return SCEP_E_INTERNAL;
	if ((r = keyops_ref(ko, 0, ca_id, &key, &cert, NULL)) != SCEP_OK)
		return r;
	if ((r = ca_serial_random(sn)) == SCEP_OK)
		r = ca_issue_build_der(key, cert, t, sn, sizeof(sn), der,
		    der_len);
	if (r == SCEP_OK && serial != NULL)
		memcpy(serial, sn, sizeof(sn));
	EVP_PKEY_free(key);
	X509_free(cert);
	return r;
}

int
keyops_make_ra(struct keyops *ko, int64_t ca_id, EVP_PKEY *ra_pub,
    const char *subject_dn, int usage, int days, time_t now, X509 **out)
{
	EVP_PKEY	*key = NULL;
	X509		*cert = NULL;
	int		 r;

	*out = NULL;
	if (ra_pub == NULL || subject_dn == NULL)
		return SCEP_E_INTERNAL;
	if (ko != NULL && ko->vt != NULL)
		return ko->vt->make_ra(ko->impl, ca_id, ra_pub, subject_dn,
		    usage, days, now, out);
	if ((r = keyops_ref(ko, 0, ca_id, &key, &cert, NULL)) != SCEP_OK)
		return r;
	r = ca_make_ra(key, cert, ra_pub, subject_dn, usage, days, now, out);
	EVP_PKEY_free(key);
	X509_free(cert);
	return r;
}

int
keyops_sign_crl(struct keyops *ko, int64_t ca_id,
    const struct crl_entry *entries, size_t n, int64_t crl_number,
    time_t this_update, time_t next_update, X509_CRL **out)
{
	EVP_PKEY	*key = NULL;
	X509		*cert = NULL;
	int		 r;

	*out = NULL;
	if (ko != NULL && ko->vt != NULL)
		return ko->vt->sign_crl(ko->impl, ca_id, entries, n, crl_number,
		    this_update, next_update, out);
	if ((r = keyops_ref(ko, 0, ca_id, &key, &cert, NULL)) != SCEP_OK)
		return r;
	r = ca_crl_build(key, cert, entries, n, crl_number, this_update,
	    next_update, out);
	EVP_PKEY_free(key);
	X509_free(cert);
	return r;
}
