/*
 * svc_intune.c -- Intune SCEP endpoints: the rules of spec intune-scep.md
 * section 2 around src/intune's calls, the registry of Azure accounts and
 * endpoint settings, the bounded worker pool that keeps waits on
 * Microsoft off the HTTP threads, and the Azure secret at rest.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "log.h"
#include "metrics.h"
#include "scep_err.h"
#include "store_azure.h"
#include "svc.h"
#include "svc_intune.h"

#define CESSATION_OF_OPERATION	5	/* CRLReason, RFC 5280 5.3.1 */
#define MAX_ACCOUNTS		4096
#define MAX_ENDPOINTS		65536
/* A sealed secret: the overhead and at most INTUNE_MAX_CFG_STR bytes. */
#define MAX_SEALED	(SVC_INTUNE_SEAL_OVERHEAD + INTUNE_MAX_CFG_STR)

/* One Azure account.  Reference-counted: a call holds a reference for
 * as long as it uses the client, so replacing or removing an account
 * never frees a client under a running call. */
struct acct {
	int64_t			 id;
	int			 poll;	/* revocation requests (spec 9) */
	uint8_t			 fp_cfg[32];	/* svc_intune_sync: the row */
	uint8_t			 fp_sec[32];	/* ... and its sealed secret */
	char			 name[STORE_NAME_MAX];	/* the row's, for the
					 * audit (si->lock); may change */
	struct intune_client	*c;	/* owned */
	int			 refs;	/* the registry's one included */
	struct acct		*next;
};

struct ep_node {
	struct svc_intune_ep	 ep;
	struct ep_node		*next;
};

struct job {
	void			(*fn)(void *);
	void			*arg;
	struct job		*next;
};

struct svc_intune {
	struct store		*store;		/* borrowed, may be NULL */
	char			*caller;	/* owned */

	pthread_mutex_t		 lock;		/* accounts and endpoints */
	struct acct		*accts;
	size_t			 naccts;
	struct ep_node		*eps;
	size_t			 neps;
	int			 synced;	/* svc_intune_sync ran */
	int64_t			 synced_version;	/* its config version */
	uint8_t			 key[SVC_INTUNE_KEY_LEN];	/* sealing */
	int			 have_key;

	/* The pool (no stalls). */
	pthread_mutex_t		 qlock;
	pthread_cond_t		 qcond;
	struct job		*head, *tail;
	size_t			 queued;
	size_t			 running;
	size_t			 queue_max;
	int			 stopping;
	pthread_t		*threads;
	size_t			 nthreads;

	/* The revocation poller (spec 9), under qlock. */
	pthread_cond_t		 pcond;
	pthread_t		 poller;
	int			 poller_on;
	int			 pstop;
	struct svc		*psvc;		/* borrowed */
	int			 pinterval;	/* seconds */
};

/* ---- the pool ---- */

static void *
worker(void *arg)
{
	struct svc_intune *si = arg;
	struct job *j = NULL;

	for (;;) {
		pthread_mutex_lock(&si->qlock);
		while (si->head == NULL && !si->stopping)
			pthread_cond_wait(&si->qcond, &si->qlock);
		if (si->head == NULL) {		/* stopping and drained */
			pthread_mutex_unlock(&si->qlock);
			return NULL;
		}
		j = si->head;
		si->head = j->next;
		if (si->head == NULL)
			si->tail = NULL;
		si->queued--;
		si->running++;
		pthread_mutex_unlock(&si->qlock);

		j->fn(j->arg);
		free(j);

		pthread_mutex_lock(&si->qlock);
		si->running--;
		pthread_mutex_unlock(&si->qlock);
	}
}

int
svc_intune_submit(struct svc_intune *si, void (*fn)(void *), void *arg)
{
	struct job *j = NULL;

	if (fn == NULL)
		return SCEP_E_INTERNAL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return SCEP_E_NOMEM;
	j->fn = fn;
	j->arg = arg;
	pthread_mutex_lock(&si->qlock);
	if (si->stopping || si->queued >= si->queue_max) {
		pthread_mutex_unlock(&si->qlock);
		free(j);
		return SCEP_E_BUSY;
	}
	if (si->tail != NULL)
		si->tail->next = j;
	else
		si->head = j;
	si->tail = j;
	si->queued++;
	pthread_cond_signal(&si->qcond);
	pthread_mutex_unlock(&si->qlock);
	return SCEP_OK;
}

void
svc_intune_pool_stats(struct svc_intune *si, size_t *running, size_t *queued)
{
	pthread_mutex_lock(&si->qlock);
	*running = si->running;
	*queued = si->queued;
	pthread_mutex_unlock(&si->qlock);
}

/* ---- object ---- */

int
svc_intune_new(const struct svc_intune_config *cfg, struct store *store,
    struct svc_intune **out)
{
	struct svc_intune *si = NULL;
	size_t i, n;
	int r = SCEP_E_NOMEM;

	*out = NULL;
	if (sodium_init() < 0)
		return SCEP_E_INTERNAL;
	if ((si = calloc(1, sizeof(*si))) == NULL)
		return SCEP_E_NOMEM;
	si->store = store;
	if ((si->caller = strdup(cfg != NULL && cfg->caller_info != NULL &&
	    cfg->caller_info[0] != '\0' ? cfg->caller_info : "scepd")) ==
	    NULL) {
		free(si);
		return SCEP_E_NOMEM;
	}
	if (pthread_mutex_init(&si->lock, NULL) != 0 ||
	    pthread_mutex_init(&si->qlock, NULL) != 0 ||
	    pthread_cond_init(&si->qcond, NULL) != 0 ||
	    pthread_cond_init(&si->pcond, NULL) != 0) {
		/* Nothing else to undo on Linux: no thread was started. */
		free(si->caller);
		free(si);
		return SCEP_E_INTERNAL;
	}
	si->queue_max = cfg != NULL && cfg->queue_max > 0 ? cfg->queue_max :
	    SVC_INTUNE_QUEUE;
	n = cfg != NULL && cfg->workers > 0 ? cfg->workers :
	    SVC_INTUNE_WORKERS;
	if (n > 1024)
		n = 1024;
	if ((si->threads = calloc(n, sizeof(*si->threads))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (pthread_create(&si->threads[i], NULL, worker, si) != 0) {
			r = SCEP_E_INTERNAL;
			goto out;
		}
		si->nthreads++;
	}
	*out = si;
	si = NULL;
	r = SCEP_OK;
 out:
	svc_intune_free(si);
	return r;
}

static void
acct_unref(struct svc_intune *si, struct acct *a)
{
	int last;

	if (a == NULL)
		return;
	pthread_mutex_lock(&si->lock);
	last = --a->refs == 0;
	pthread_mutex_unlock(&si->lock);
	if (last) {
		intune_client_free(a->c);
		free(a);
	}
}

void
svc_intune_free(struct svc_intune *si)
{
	struct acct *a = NULL, *an = NULL;
	struct ep_node *e = NULL, *en = NULL;
	size_t i;

	if (si == NULL)
		return;
	pthread_mutex_lock(&si->qlock);
	si->stopping = 1;
	pthread_cond_broadcast(&si->qcond);
	pthread_cond_broadcast(&si->pcond);
	pthread_mutex_unlock(&si->qlock);
	if (si->poller_on)
		pthread_join(si->poller, NULL);
	si->poller_on = 0;
	for (i = 0; i < si->nthreads; i++)
		pthread_join(si->threads[i], NULL);
	free(si->threads);
	for (a = si->accts; a != NULL; a = an) {
		an = a->next;
		intune_client_free(a->c);
		free(a);
	}
	for (e = si->eps; e != NULL; e = en) {
		en = e->next;
		free(e);
	}
	pthread_cond_destroy(&si->qcond);
	pthread_cond_destroy(&si->pcond);
	pthread_mutex_destroy(&si->qlock);
	pthread_mutex_destroy(&si->lock);
	sodium_memzero(si->key, sizeof(si->key));
	free(si->caller);
	free(si);
}

int
svc_intune_is_intune(const struct store_endpoint *ep)
{
	return ep != NULL && (ep->type == EP_CLIENT_INTUNE ||
	    ep->type == EP_DEVICE_INTUNE);
}

/* ---- registry ---- */

int
svc_intune_account_set(struct svc_intune *si, int64_t id,
    const struct intune_account_cfg *cfg, char *why, size_t whysz)
{
	struct intune_account_cfg c = *cfg;
	struct acct *a = NULL, **pp, *old = NULL;
	int r;

	if (id <= 0)
		return SCEP_E_INTERNAL;
	if (c.caller_info == NULL || c.caller_info[0] == '\0')
		c.caller_info = si->caller;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return SCEP_E_NOMEM;
	if ((r = intune_client_new(&c, &a->c, why, whysz)) != SCEP_OK) {
		free(a);
		return r;
	}
	a->id = id;
	a->poll = cfg->revocation_poll != 0;
	a->refs = 1;
	pthread_mutex_lock(&si->lock);
	for (pp = &si->accts; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->id == id)
			break;
	if (*pp != NULL) {
		old = *pp;
		memcpy(a->name, old->name, sizeof(a->name));
		a->next = old->next;
		*pp = a;
	} else if (si->naccts >= MAX_ACCOUNTS) {
		pthread_mutex_unlock(&si->lock);
		intune_client_free(a->c);
		free(a);
		return SCEP_E_TOOBIG;
	} else {
		a->next = si->accts;
		si->accts = a;
		si->naccts++;
	}
	pthread_mutex_unlock(&si->lock);
	acct_unref(si, old);	/* the registry's reference */
	return SCEP_OK;
}

int
svc_intune_account_remove(struct svc_intune *si, int64_t id)
{
	struct acct **pp, *old = NULL;

	pthread_mutex_lock(&si->lock);
	for (pp = &si->accts; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			old = *pp;
			*pp = old->next;
			si->naccts--;
			break;
		}
	pthread_mutex_unlock(&si->lock);
	if (old == NULL)
		return SCEP_E_NOTFOUND;
	acct_unref(si, old);
	return SCEP_OK;
}

/* A referenced account, or NULL. */
static struct acct *
acct_get(struct svc_intune *si, int64_t id)
{
	struct acct *a = NULL;

	pthread_mutex_lock(&si->lock);
	for (a = si->accts; a != NULL; a = a->next)
		if (a->id == id) {
			a->refs++;
			break;
		}
	pthread_mutex_unlock(&si->lock);
	return a;
}

int
svc_intune_account_secret(struct svc_intune *si, int64_t id,
    const char *secret)
{
	struct acct *a = NULL;
	int r;

	if ((a = acct_get(si, id)) == NULL)
		return SCEP_E_NOTFOUND;
	r = intune_client_set_secret(a->c, secret);
	acct_unref(si, a);
	return r;
}

int
svc_intune_account_test(struct svc_intune *si, int64_t id,
    struct intune_test_report *rep)
{
	struct acct *a = NULL;
	int r;

	memset(rep, 0, sizeof(*rep));
	if ((a = acct_get(si, id)) == NULL) {
		snprintf(rep->summary, sizeof(rep->summary),
		    "no such Azure account");
		rep->rc = SCEP_E_NOTFOUND;
		return SCEP_E_NOTFOUND;
	}
	r = intune_test_connection(a->c, rep);
	acct_unref(si, a);
	return r;
}

int
svc_intune_account_stats(struct svc_intune *si, int64_t id,
    struct intune_stats *st)
{
	struct acct *a = NULL;

	if ((a = acct_get(si, id)) == NULL)
		return SCEP_E_NOTFOUND;
	intune_client_stats(a->c, st);
	acct_unref(si, a);
	return SCEP_OK;
}

int
svc_intune_endpoint_set(struct svc_intune *si, const struct svc_intune_ep *ep)
{
	struct ep_node *e = NULL;

	if (ep->endpoint_id <= 0 || ep->azure_account_id < 0 ||
	    memchr(ep->ca_configuration, '\0', sizeof(ep->ca_configuration))
	    == NULL || memchr(ep->issuing_ca, '\0', sizeof(ep->issuing_ca)) ==
	    NULL)
		return SCEP_E_INTERNAL;
	pthread_mutex_lock(&si->lock);
	for (e = si->eps; e != NULL; e = e->next)
		if (e->ep.endpoint_id == ep->endpoint_id)
			break;
	if (e == NULL) {
		if (si->neps >= MAX_ENDPOINTS ||
		    (e = calloc(1, sizeof(*e))) == NULL) {
			pthread_mutex_unlock(&si->lock);
			return si->neps >= MAX_ENDPOINTS ? SCEP_E_TOOBIG :
			    SCEP_E_NOMEM;
		}
		e->next = si->eps;
		si->eps = e;
		si->neps++;
	}
	e->ep = *ep;
	pthread_mutex_unlock(&si->lock);
	return SCEP_OK;
}

int
svc_intune_endpoint_remove(struct svc_intune *si, int64_t endpoint_id)
{
	struct ep_node **pp, *e = NULL;

	pthread_mutex_lock(&si->lock);
	for (pp = &si->eps; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->ep.endpoint_id == endpoint_id) {
			e = *pp;
			*pp = e->next;
			si->neps--;
			break;
		}
	pthread_mutex_unlock(&si->lock);
	free(e);
	return e != NULL ? SCEP_OK : SCEP_E_NOTFOUND;
}

int
svc_intune_endpoint_get(struct svc_intune *si, int64_t endpoint_id,
    struct svc_intune_ep *out)
{
	struct ep_node *e = NULL;
	int r = SCEP_E_NOTFOUND;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&si->lock);
	for (e = si->eps; e != NULL; e = e->next)
		if (e->ep.endpoint_id == endpoint_id) {
			*out = e->ep;
			r = SCEP_OK;
			break;
		}
	pthread_mutex_unlock(&si->lock);
	return r;
}

/* The account's name as it is now (the audit keeps it as it was). */
static void
acct_name_copy(struct svc_intune *si, const struct acct *a, char *buf,
    size_t bufsz)
{
	pthread_mutex_lock(&si->lock);
	snprintf(buf, bufsz, "%s", a->name);
	pthread_mutex_unlock(&si->lock);
}

/* A rename alone changes no client: only the name is replaced. */
static void
acct_name_set(struct svc_intune *si, int64_t id, const char *name)
{
	struct acct *a;

	pthread_mutex_lock(&si->lock);
	for (a = si->accts; a != NULL; a = a->next)
		if (a->id == id)
			snprintf(a->name, sizeof(a->name), "%s", name);
	pthread_mutex_unlock(&si->lock);
}

/* The endpoint's settings and a reference to its account; a failure
 * text in out when either is missing. */
static int
resolve(struct svc_intune *si, const struct store_endpoint *ep,
    struct svc_intune_ep *set, struct acct **acct,
    struct svc_intune_outcome *out)
{
	*acct = NULL;
	if (svc_intune_endpoint_get(si, ep->id, set) != SCEP_OK ||
	    set->azure_account_id <= 0) {
		snprintf(out->failtext, sizeof(out->failtext),
		    "Intune endpoint has no Azure account");
		return SCEP_E_CONFIG;
	}
	out->account_id = set->azure_account_id;
	if ((*acct = acct_get(si, set->azure_account_id)) == NULL) {
		snprintf(out->failtext, sizeof(out->failtext),
		    "Azure account %lld of this endpoint is not configured",
		    (long long)set->azure_account_id);
		return SCEP_E_CONFIG;
	}
	acct_name_copy(si, *acct, out->account_name,
	    sizeof(out->account_name));
	return SCEP_OK;
}

/* ---- the registry from the store ---- */

/* Fingerprints of an account row: everything but the secrets, and the
 * sealed secrets, so a sync can tell a rotation (keep the client, drop
 * its tokens) from a configuration change (a new client). */
static void
account_fps(const struct store_azure_account *a, uint8_t cfg[32],
    uint8_t sec[32])
{
	crypto_generichash_state h;
	int64_t v[4];

	v[0] = a->environment;
	v[1] = a->revocation_poll;
	v[2] = a->delegation_general;
	v[3] = a->id;
	crypto_generichash_init(&h, NULL, 0, 32);
	crypto_generichash_update(&h, (const unsigned char *)v, sizeof(v));
#define H(f)	crypto_generichash_update(&h, (const unsigned char *)(f), \
	    strlen(f) + 1)
	H(a->tenant_id);
	H(a->client_id);
	H(a->authority_url);
	H(a->graph_url);
	H(a->intune_resource_url);
	H(a->intune_app_id);
	H(a->graph_scope);
	H(a->intune_scope);
	H(a->proxy);
	H(a->proxy_user);
	H(a->ca_bundle_path);
#undef H
	crypto_generichash_update(&h, a->proxy_password,
	    a->proxy_password_len);
	crypto_generichash_final(&h, cfg, 32);
	crypto_generichash(sec, 32, a->secret, a->secret_len, NULL, 0);
}

static const char *
empty_null(const char *s)
{
	return s[0] != '\0' ? s : NULL;
}

/* Make or refresh the in-memory account for one row. */
static int
sync_account(struct svc_intune *si, const uint8_t key[SVC_INTUNE_KEY_LEN],
    const struct store_azure_account *row)
{
	struct intune_account_cfg cfg;
	uint8_t fcfg[32], fsec[32];
	char *secret = NULL, *ppass = NULL, why[256];
	struct acct *a = NULL;
	int same_cfg = 0, same_sec = 0, r;

	account_fps(row, fcfg, fsec);
	if ((a = acct_get(si, row->id)) != NULL) {
		same_cfg = memcmp(a->fp_cfg, fcfg, 32) == 0;
		same_sec = memcmp(a->fp_sec, fsec, 32) == 0;
	}
	if (same_cfg && same_sec) {
		acct_unref(si, a);
		acct_name_set(si, row->id, row->name);
		return SCEP_OK;
	}
	if ((r = svc_intune_secret_open(key, row->secret, row->secret_len,
	    &secret)) != SCEP_OK) {
		log_error("msg=\"cannot open the sealed secret of an Azure "
		    "account (wrong azure.key?)\" azure_account_id=%lld "
		    "err=\"%s\"", (long long)row->id, scep_strerror(r));
		goto out;
	}
	if (same_cfg) {
		/* Only the secret moved: rotate in place (issue 5: at once,
		 * cached tokens dropped, discovery kept). */
		if ((r = intune_client_set_secret(a->c, secret)) == SCEP_OK) {
			pthread_mutex_lock(&si->lock);
			memcpy(a->fp_sec, fsec, 32);
			pthread_mutex_unlock(&si->lock);
		}
		goto out;
	}
	if (row->proxy_password != NULL && (r = svc_intune_secret_open(key,
	    row->proxy_password, row->proxy_password_len, &ppass)) !=
	    SCEP_OK) {
		log_error("msg=\"cannot open the sealed proxy password of an "
		    "Azure account\" azure_account_id=%lld",
		    (long long)row->id);
		goto out;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.environment = row->environment;
	cfg.tenant_id = row->tenant_id;
	cfg.client_id = row->client_id;
	cfg.client_secret = secret;
	cfg.authority_url = empty_null(row->authority_url);
	cfg.graph_url = empty_null(row->graph_url);
	cfg.intune_resource_url = empty_null(row->intune_resource_url);
	cfg.intune_app_id = empty_null(row->intune_app_id);
	cfg.graph_scope = empty_null(row->graph_scope);
	cfg.intune_scope = empty_null(row->intune_scope);
	cfg.proxy = empty_null(row->proxy);
	cfg.proxy_user = empty_null(row->proxy_user);
	cfg.proxy_password = ppass;
	cfg.ca_bundle_path = empty_null(row->ca_bundle_path);
	cfg.revocation_poll = row->revocation_poll;
	if ((r = svc_intune_account_set(si, row->id, &cfg, why, sizeof(why)))
	    != SCEP_OK) {
		log_error("msg=\"Azure account configuration refused\" "
		    "azure_account_id=%lld reason=\"%s\"", (long long)row->id,
		    why);
		goto out;
	}
	acct_unref(si, a);
	if ((a = acct_get(si, row->id)) != NULL) {
		pthread_mutex_lock(&si->lock);
		memcpy(a->fp_cfg, fcfg, 32);
		memcpy(a->fp_sec, fsec, 32);
		pthread_mutex_unlock(&si->lock);
	}
 out:
	if (r != SCEP_OK && a != NULL) {
		/* Fail closed: an account we cannot use must not keep
		 * serving with stale credentials. */
		acct_unref(si, a);
		a = NULL;
		(void)svc_intune_account_remove(si, row->id);
	}
	acct_unref(si, a);
	if (r == SCEP_OK)
		acct_name_set(si, row->id, row->name);
	svc_intune_secret_free(secret);
	svc_intune_secret_free(ppass);
	return r;
}

int
svc_intune_sync(struct svc_intune *si, const uint8_t key[SVC_INTUNE_KEY_LEN],
    int force)
{
	struct store_azure_account *rows = NULL;
	struct store_intune_ep *eps = NULL;
	struct ep_node *head = NULL, *e = NULL;
	struct acct *a = NULL;
	int64_t version = 0, *gone = NULL;
	size_t n = 0, ne = 0, ngone = 0, i, k;
	int r, bad = 0;

	if (si->store == NULL)
		return SCEP_E_INTERNAL;
	if (key == NULL) {
		if (!si->have_key)
			return SCEP_E_CONFIG;
		key = si->key;
	}
	if ((r = store_config_version(si->store, &version)) != SCEP_OK)
		return r;
	pthread_mutex_lock(&si->lock);
	if (!force && si->synced && version == si->synced_version) {
		pthread_mutex_unlock(&si->lock);
		return SCEP_OK;
	}
	pthread_mutex_unlock(&si->lock);

	if ((rows = calloc(SVC_INTUNE_MAX_ACCOUNTS, sizeof(*rows))) == NULL ||
	    (eps = calloc(SVC_INTUNE_MAX_ENDPOINTS, sizeof(*eps))) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	if ((r = store_azure_account_list(si->store, rows,
	    SVC_INTUNE_MAX_ACCOUNTS, &n)) != SCEP_OK ||
	    (r = store_intune_ep_list(si->store, eps, SVC_INTUNE_MAX_ENDPOINTS,
	    &ne)) != SCEP_OK)
		goto out;
	if (n == SVC_INTUNE_MAX_ACCOUNTS)
		log_warn("msg=\"more Azure accounts than svc_intune loads\" "
		    "max=%d", SVC_INTUNE_MAX_ACCOUNTS);
	for (i = 0; i < n; i++)
		if (sync_account(si, key, &rows[i]) != SCEP_OK)
			bad++;

	/* Accounts no longer in the store (deleted). */
	pthread_mutex_lock(&si->lock);
	if ((gone = calloc(si->naccts + 1, sizeof(*gone))) != NULL)
		for (a = si->accts; a != NULL; a = a->next) {
			for (k = 0; k < n; k++)
				if (rows[k].id == a->id)
					break;
			if (k == n)
				gone[ngone++] = a->id;
		}
	pthread_mutex_unlock(&si->lock);
	for (i = 0; i < ngone; i++)
		(void)svc_intune_account_remove(si, gone[i]);

	/* Endpoint settings: a new list, swapped in at once, so that no
	 * check ever sees an endpoint without its settings. */
	for (i = ne; i > 0; i--) {
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			r = SCEP_E_NOMEM;
			goto out;
		}
		e->ep.endpoint_id = eps[i - 1].endpoint_id;
		e->ep.azure_account_id = eps[i - 1].azure_account_id;
		e->ep.wait_success = eps[i - 1].wait_success;
		snprintf(e->ep.ca_configuration, sizeof(e->ep.ca_configuration),
		    "%s", eps[i - 1].ca_configuration);
		snprintf(e->ep.issuing_ca, sizeof(e->ep.issuing_ca), "%s",
		    eps[i - 1].issuing_ca);
		e->next = head;
		head = e;
	}
	pthread_mutex_lock(&si->lock);
	e = si->eps;
	si->eps = head;
	si->neps = ne;
	head = e;		/* the old list, freed below */
	pthread_mutex_unlock(&si->lock);
	pthread_mutex_lock(&si->lock);
	si->synced = 1;
	si->synced_version = version;
	pthread_mutex_unlock(&si->lock);
	if (bad > 0)
		log_warn("msg=\"Intune sync: some Azure accounts are "
		    "unusable\" count=%d", bad);
	r = SCEP_OK;
 out:
	for (i = 0; rows != NULL && i < n; i++)
		store_azure_account_clear(&rows[i]);
	free(rows);
	free(eps);
	free(gone);
	while (head != NULL) {
		e = head->next;
		free(head);
		head = e;
	}
	return r;
}

void
svc_intune_set_key(struct svc_intune *si, const uint8_t key[SVC_INTUNE_KEY_LEN])
{
	pthread_mutex_lock(&si->lock);
	memcpy(si->key, key, SVC_INTUNE_KEY_LEN);
	si->have_key = 1;
	pthread_mutex_unlock(&si->lock);
}

/* Replace *blob with "secret" sealed under the key; take. */
static int
reseal(struct svc_intune *si, const char *secret, uint8_t **blob,
    size_t *len)
{
	free(*blob);
	*blob = NULL;
	*len = 0;
	return svc_intune_secret_seal(si->key, secret, blob, len);
}

int
svc_intune_account_save(struct svc_intune *si, struct store_azure_account *row,
    const char *secret, const char *proxy_password,
    const struct store_orgref *targets, size_t ntargets, char *why,
    size_t whysz)
{
	struct store_azure_account cur;
	struct intune_account_cfg cfg;
	struct intune_client *probe = NULL;
	const char *check_secret = NULL, *check_pp = NULL;
	char *old_secret = NULL, *old_pp = NULL;
	int64_t now = (int64_t)time(NULL);
	int r;

	memset(&cur, 0, sizeof(cur));
	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (si->store == NULL || !si->have_key)
		return SCEP_E_CONFIG;
	/* Start from the stored secrets on an update. */
	free(row->secret);
	free(row->proxy_password);
	row->secret = row->proxy_password = NULL;
	row->secret_len = row->proxy_password_len = 0;
	if (row->id > 0) {
		if ((r = store_azure_account_get(si->store, row->id, &cur)) !=
		    SCEP_OK)
			goto out;
		if (cur.deleted_at != 0) {
			r = SCEP_E_NOTFOUND;
			goto out;
		}
		row->created_at = cur.created_at;
		if ((secret == NULL && (r = svc_intune_secret_open(si->key,
		    cur.secret, cur.secret_len, &old_secret)) != SCEP_OK) ||
		    (proxy_password == NULL && cur.proxy_password != NULL &&
		    (r = svc_intune_secret_open(si->key, cur.proxy_password,
		    cur.proxy_password_len, &old_pp)) != SCEP_OK))
			goto out;
	} else {
		if (secret == NULL || secret[0] == '\0') {
			if (why != NULL)
				snprintf(why, whysz, "client secret required");
			r = SCEP_E_CONFIG;
			goto out;
		}
		row->created_at = now;
	}
	check_secret = secret != NULL ? secret : old_secret;
	check_pp = proxy_password != NULL ? (proxy_password[0] != '\0' ?
	    proxy_password : NULL) : old_pp;

	/* Refuse what a client would refuse, before anything is written. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.environment = row->environment;
	cfg.tenant_id = row->tenant_id;
	cfg.client_id = row->client_id;
	cfg.client_secret = check_secret;
	cfg.authority_url = empty_null(row->authority_url);
	cfg.graph_url = empty_null(row->graph_url);
	cfg.intune_resource_url = empty_null(row->intune_resource_url);
	cfg.intune_app_id = empty_null(row->intune_app_id);
	cfg.graph_scope = empty_null(row->graph_scope);
	cfg.intune_scope = empty_null(row->intune_scope);
	cfg.proxy = empty_null(row->proxy);
	cfg.proxy_user = empty_null(row->proxy_user);
	cfg.proxy_password = check_pp;
	cfg.ca_bundle_path = empty_null(row->ca_bundle_path);
	cfg.caller_info = si->caller;
	if ((r = intune_client_new(&cfg, &probe, why, whysz)) != SCEP_OK)
		goto out;
	intune_client_free(probe);

	if ((r = reseal(si, check_secret, &row->secret, &row->secret_len)) !=
	    SCEP_OK || (check_pp != NULL && (r = reseal(si, check_pp,
	    &row->proxy_password, &row->proxy_password_len)) != SCEP_OK))
		goto out;
	row->updated_at = now;
	r = row->id > 0 ? store_azure_account_update(si->store, row, targets,
	    ntargets) : store_azure_account_insert(si->store, row, targets,
	    ntargets);
	if (r == SCEP_OK)
		r = svc_intune_sync(si, NULL, 0);
 out:
	store_azure_account_clear(&cur);
	svc_intune_secret_free(old_secret);
	svc_intune_secret_free(old_pp);
	return r;
}

/* ---- spec 2 ---- */

static void
outcome_init(struct svc_intune_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->failinfo = SCEP_FAIL_BADREQUEST;
}

/* failInfoText naming what Intune said, or where it went wrong. */
static void
failtext_for(const struct intune_call *c, const char *what, char *buf,
    size_t bufsz)
{
	switch (c->stage) {
	case INTUNE_STAGE_REJECTED:
		snprintf(buf, bufsz, "%s failed: %s", what,
		    c->code[0] != '\0' ? c->code : "(no code)");
		break;
	case INTUNE_STAGE_TOKEN:
		snprintf(buf, bufsz, "%s failed: cannot authenticate to "
		    "Entra ID%s%s", what, c->aadsts[0] ? " " : "", c->aadsts);
		break;
	case INTUNE_STAGE_DISCOVERY:
		snprintf(buf, bufsz, "%s failed: Intune service not found",
		    what);
		break;
	case INTUNE_STAGE_CALL:
		if (c->http_status != 0)
			snprintf(buf, bufsz, "%s failed: HTTP %ld", what,
			    c->http_status);
		else
			snprintf(buf, bufsz, "%s failed: %s", what,
			    strstr(c->message, "timed out") != NULL ?
			    "timed out" : "no answer");
		break;
	case INTUNE_STAGE_RESPONSE:
		snprintf(buf, bufsz, "%s failed: unreadable answer", what);
		break;
	default:
		snprintf(buf, bufsz, "%s failed: internal error", what);
		break;
	}
}

/* Spec 2 step 2: is there a non-empty challengePassword?  1 yes, 0 no,
 * -1 the CSR does not parse.  Read with the core's PKCS#10 template: no
 * key decoder (d2i_X509_REQ would build one, ~0.1 ms). */
static int
has_challenge(const uint8_t *csr, size_t len)
{
	return scep_csr_has_challenge(csr, len);
}

/*
 * Issue 8: did Intune refuse the request itself?  An answer that parsed
 * (HTTP 2xx) with a named code.  "Unknown" (an unspecified failure on
 * Microsoft's side), an empty or missing code, a lower-case "success",
 * non-2xx answers, timeouts and token or discovery failures are not the
 * device's doing and must not lock it out.
 */
static int
challenge_refused(const struct intune_call *c)
{
	return c->stage == INTUNE_STAGE_REJECTED && c->code[0] != '\0' &&
	    strcasecmp(c->code, "Success") != 0 &&
	    strcasecmp(c->code, "Unknown") != 0;
}

int
svc_intune_check(struct svc_intune *si, const struct store_endpoint *ep,
    const char *transid, const uint8_t *csr, size_t csr_len,
    struct svc_intune_outcome *out)
{
	struct svc_intune_ep set;
	struct acct *a = NULL;
	double t0;
	int r, hc;

	outcome_init(out);
	if (!svc_intune_is_intune(ep)) {
		out->issue = 1;		/* spec 10.2 case 8: never called */
		return SCEP_OK;
	}
	if ((hc = has_challenge(csr, csr_len)) <= 0) {
		snprintf(out->failtext, sizeof(out->failtext), "%s",
		    hc == 0 ? "challenge missing" : "malformed PKCS#10");
		out->refused = hc == 0;
		return SCEP_E_DENIED;
	}
	if (resolve(si, ep, &set, &a, out) != SCEP_OK) {
		log_error("msg=\"Intune endpoint not usable\" endpoint=%s "
		    "reason=\"%s\"", ep->uri_ext, out->failtext);
		return SCEP_E_DENIED;
	}
	t0 = metrics_now();
	r = intune_validate(a->c, transid, csr, csr_len, &out->validate);
	metrics_observe(METRIC_H_INTUNE, metrics_now() - t0);
	acct_unref(si, a);
	if (r != SCEP_OK) {
		/* spec 2 step 4: any failure, no issuance, no notification. */
		failtext_for(&out->validate, "Intune validation", out->failtext,
		    sizeof(out->failtext));
		out->refused = challenge_refused(&out->validate);
		return SCEP_E_DENIED;
	}
	out->issue = 1;
	return SCEP_OK;
}

/* The store's spelling of a serial (upper-case hex, no leading zeros),
 * for audit records. */
static void
store_serial(X509 *cert, char *buf, size_t bufsz)
{
	BIGNUM *bn = NULL;
	char *hex = NULL;

	const char *p = NULL;

	buf[0] = '\0';
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) !=
	    NULL && (hex = BN_bn2hex(bn)) != NULL) {
		/* BN_bn2hex writes whole bytes: "0A..." */
		for (p = hex; p[0] == '0' && p[1] != '\0'; p++)
			;
		snprintf(buf, bufsz, "%s", p);
	}
	OPENSSL_free(hex);
	BN_free(bn);
}

/* Everything a background successNotification needs, owned. */
struct bg_note {
	struct svc_intune	*si;
	struct acct		*acct;		/* referenced */
	int64_t			 endpoint_id;
	char			*transid;
	uint8_t			*csr;
	size_t			 csr_len;
	struct intune_cert_info	 ci;
	char			 serial[STORE_SERIAL_MAX];
};

static void
bg_note_free(struct bg_note *b)
{
	if (b == NULL)
		return;
	acct_unref(b->si, b->acct);
	free(b->transid);
	free(b->csr);
	free(b);
}

static void
audit_background(struct svc_intune *si, const struct bg_note *b,
    const struct svc_intune_outcome *o)
{
	struct store_event ev;

	if (si->store == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.ts = (int64_t)time(NULL);
	snprintf(ev.kind, sizeof(ev.kind), "enroll");
	snprintf(ev.actor, sizeof(ev.actor), "intune");
	snprintf(ev.action, sizeof(ev.action), "successNotification");
	ev.endpoint_id = b->endpoint_id;
	snprintf(ev.transid, sizeof(ev.transid), "%s", b->transid);
	snprintf(ev.result, sizeof(ev.result), "%s",
	    o->notify.rc == SCEP_OK ? "SUCCESS" : "FAILURE");
	ev.failinfo = -1;
	if (o->notify.rc != SCEP_OK)
		snprintf(ev.reason, sizeof(ev.reason), "%s", o->failtext);
	snprintf(ev.serial, sizeof(ev.serial), "%s", b->serial);
	(void)svc_intune_details(o, ev.details, sizeof(ev.details));
	if (store_event_append(si->store, &ev) != SCEP_OK)
		log_error("msg=\"cannot record the background Intune "
		    "notification\" transid=\"%s\"", b->transid);
}

static void
bg_note_run(void *arg)
{
	struct bg_note *b = arg;
	struct svc_intune_outcome o;
	double t0;

	outcome_init(&o);
	o.account_id = b->acct->id;
	acct_name_copy(b->si, b->acct, o.account_name, sizeof(o.account_name));
	o.background = 1;
	t0 = metrics_now();
	if (intune_notify_success(b->acct->c, b->transid, b->csr, b->csr_len,
	    &b->ci, &o.notify) != SCEP_OK) {
		failtext_for(&o.notify, "Intune successNotification",
		    o.failtext, sizeof(o.failtext));
		/* The certificate is out: all we can do is say so. */
		log_error("msg=\"background successNotification failed; the "
		    "certificate was delivered\" transid=\"%s\" serial=%s "
		    "reason=\"%s\"", b->transid, b->serial, o.failtext);
	}
	metrics_observe(METRIC_H_INTUNE, metrics_now() - t0);
	audit_background(b->si, b, &o);
	bg_note_free(b);
}

/* spec 6.2 server rules: caConfiguration = a stable CA identifier (the
 * endpoint's CA name unless configured); issuingCertificateAuthority =
 * issuer DN unless configured; certificateAuthority = issuer DN. */
static int
cert_fields(struct svc_intune *si, const struct store_endpoint *ep,
    const struct svc_intune_ep *set, X509 *cert, struct intune_cert_info *ci)
{
	struct store_ca ca;
	int r;

	if ((r = intune_cert_info(cert, ci)) != SCEP_OK)
		return r;
	if (set->issuing_ca[0] != '\0')
		snprintf(ci->issuer, sizeof(ci->issuer), "%s", set->issuing_ca);
	if (set->ca_configuration[0] != '\0') {
		snprintf(ci->ca_configuration, sizeof(ci->ca_configuration),
		    "%s", set->ca_configuration);
		return SCEP_OK;
	}
	memset(&ca, 0, sizeof(ca));
	if (si->store != NULL && store_ca_get(si->store, ep->ca_id, &ca) ==
	    SCEP_OK)
		snprintf(ci->ca_configuration, sizeof(ci->ca_configuration),
		    "%s", ca.name);
	store_ca_clear(&ca);
	if (ci->ca_configuration[0] == '\0')
		snprintf(ci->ca_configuration, sizeof(ci->ca_configuration),
		    "ca-%lld", (long long)ep->ca_id);
	return SCEP_OK;
}

int
svc_intune_after_issue(struct svc_intune *si, const struct store_endpoint *ep,
    const char *transid, const uint8_t *csr, size_t csr_len, X509 *cert,
    struct svc_intune_outcome *out)
{
	struct svc_intune_ep set;
	struct intune_cert_info ci;
	struct bg_note *b = NULL;
	struct acct *a = NULL;
	double t0;
	int r;

	outcome_init(out);
	if (!svc_intune_is_intune(ep))
		return SCEP_OK;
	/* From here on every failure revokes: fail closed (spec 2 step 6). */
	out->revoke = 1;
	if (resolve(si, ep, &set, &a, out) != SCEP_OK)
		return SCEP_E_DENIED;
	if ((r = cert_fields(si, ep, &set, cert, &ci)) != SCEP_OK) {
		acct_unref(si, a);
		snprintf(out->failtext, sizeof(out->failtext),
		    "Intune successNotification failed: internal error");
		return SCEP_E_DENIED;
	}
	if (!set.wait_success) {
		/* SCEPman's WaitForSuccessNotificationResponse=false: reply
		 * now, notify from the pool. */
		if ((b = calloc(1, sizeof(*b))) != NULL &&
		    (b->transid = strdup(transid)) != NULL &&
		    (b->csr = malloc(csr_len)) != NULL) {
			b->si = si;
			b->acct = a;
			a = NULL;
			b->endpoint_id = ep->id;
			memcpy(b->csr, csr, csr_len);
			b->csr_len = csr_len;
			b->ci = ci;
			store_serial(cert, b->serial, sizeof(b->serial));
			if (svc_intune_submit(si, bg_note_run, b) == SCEP_OK) {
				out->revoke = 0;
				out->background = 1;
				return SCEP_OK;
			}
			a = b->acct;	/* take it back */
			b->acct = NULL;
		}
		bg_note_free(b);
		/* No room in the pool: notify here, but still deliver. */
		log_warn("msg=\"Intune pool full: successNotification sent "
		    "inline\" transid=\"%s\"", transid);
		t0 = metrics_now();
		(void)intune_notify_success(a->c, transid, csr, csr_len, &ci,
		    &out->notify);
		metrics_observe(METRIC_H_INTUNE, metrics_now() - t0);
		acct_unref(si, a);
		out->revoke = 0;
		return SCEP_OK;
	}
	t0 = metrics_now();
	r = intune_notify_success(a->c, transid, csr, csr_len, &ci,
	    &out->notify);
	metrics_observe(METRIC_H_INTUNE, metrics_now() - t0);
	acct_unref(si, a);
	if (r != SCEP_OK) {
		failtext_for(&out->notify, "Intune successNotification",
		    out->failtext, sizeof(out->failtext));
		return SCEP_E_DENIED;
	}
	out->revoke = 0;
	return SCEP_OK;
}

int64_t
svc_intune_hresult(int err, int failinfo)
{
	switch (err) {
	case SCEP_OK:
		if (failinfo >= SCEP_FAIL_BADALG &&
		    failinfo <= SCEP_FAIL_BADCERTID)
			return INTUNE_HR_FAILINFO + failinfo;
		return INTUNE_HR_INTERNAL;
	case SCEP_E_BUSY:
	case SCEP_E_IO:
	case SCEP_E_CONFIG:
		return INTUNE_HR_UNAVAILABLE;
	case SCEP_E_DENIED:
	case SCEP_E_BADKEY:
	case SCEP_E_BADALG:
	case SCEP_E_UNSUPPORTED:
		return INTUNE_HR_POLICY;
	case SCEP_E_STORE:
	case SCEP_E_EXISTS:
		return INTUNE_HR_STORE;
	default:
		return INTUNE_HR_INTERNAL;
	}
}

int
svc_intune_after_failure(struct svc_intune *si, const struct store_endpoint *ep,
    const char *transid, const uint8_t *csr, size_t csr_len, int err,
    int failinfo, const char *why, struct svc_intune_outcome *out)
{
	struct svc_intune_ep set;
	struct acct *a = NULL;
	double t0;
	int r;

	outcome_init(out);
	if (!svc_intune_is_intune(ep))
		return SCEP_OK;
	if (resolve(si, ep, &set, &a, out) != SCEP_OK)
		return SCEP_E_CONFIG;
	t0 = metrics_now();
	r = intune_notify_failure(a->c, transid, csr, csr_len,
	    svc_intune_hresult(err, failinfo), why != NULL && why[0] != '\0' ?
	    why : scep_strerror(err), &out->notify);
	metrics_observe(METRIC_H_INTUNE, metrics_now() - t0);
	acct_unref(si, a);
	if (r != SCEP_OK)
		failtext_for(&out->notify, "Intune failureNotification",
		    out->failtext, sizeof(out->failtext));
	return r;
}

/* ---- audit details ---- */

static json_t *
call_obj(const struct intune_call *c, int level)
{
	json_t *o = NULL, *ids = NULL;
	int i;

	if ((o = json_pack("{s:s, s:s, s:I, s:I, s:s, s:i}",
	    "action", c->action != NULL ? c->action : "",
	    "code", c->code,
	    "http", (json_int_t)c->http_status,
	    "ms", (json_int_t)c->elapsed_ms,
	    "stage", intune_stage_name(c->stage),
	    "attempts", c->attempts)) == NULL)
		return NULL;
	if (c->aadsts[0] != '\0')
		json_object_set_new(o, "aadsts", json_string(c->aadsts));
	if (level < 2 && (ids = json_array()) != NULL) {
		for (i = 0; i < c->attempts && i < INTUNE_MAX_ATTEMPTS; i++)
			json_array_append_new(ids, json_string(
			    c->request_ids[i]));
		json_object_set_new(o, "crid", ids);
	}
	if (level < 1 && c->message[0] != '\0') {
		char m[81];

		snprintf(m, sizeof(m), "%.80s", c->message);
		json_object_set_new(o, "msg", json_string(m));
	}
	return o;
}

int
svc_intune_details(const struct svc_intune_outcome *o, char *buf,
    size_t bufsz)
{
	json_t *root = NULL;
	char *s = NULL;
	size_t n, max = bufsz < SVC_INTUNE_DETAILS_MAX ? bufsz :
	    SVC_INTUNE_DETAILS_MAX;
	int level;

	if (bufsz < 3)
		return -1;
	snprintf(buf, bufsz, "{}");
	/* Shed the message, then the request IDs, until it fits. */
	for (level = 0; level < 3; level++) {
		json_decref(root);
		free(s);
		s = NULL;
		if ((root = json_object()) == NULL)
			return 2;
		if (o->account_id > 0)
			json_object_set_new(root, "azure_account_id",
			    json_integer(o->account_id));
		/* The name as it was at the time (accounts get renamed). */
		if (o->account_id > 0 && o->account_name[0] != '\0')
			json_object_set_new(root, "azure_account_name",
			    json_string(o->account_name));
		if (o->validate.action != NULL)
			json_object_set_new(root, "validate",
			    call_obj(&o->validate, level));
		if (o->notify.action != NULL)
			json_object_set_new(root, "notify",
			    call_obj(&o->notify, level));
		if (o->background)
			json_object_set_new(root, "background", json_true());
		if ((s = json_dumps(root, JSON_COMPACT)) == NULL)
			break;
		if ((n = strlen(s)) + 1 <= max) {
			memcpy(buf, s, n + 1);
			json_decref(root);
			free(s);
			return (int)n;
		}
	}
	json_decref(root);
	free(s);
	return 2;
}

/* ---- check on the pool ---- */

struct async_check {
	struct svc_intune	*si;
	struct store_endpoint	 ep;
	char			*transid;
	uint8_t			*csr;
	size_t			 csr_len;
	void			(*done)(void *, int,
				    const struct svc_intune_outcome *);
	void			*arg;
};

static void
async_check_run(void *arg)
{
	struct async_check *k = arg;
	struct svc_intune_outcome o;
	int r;

	r = svc_intune_check(k->si, &k->ep, k->transid, k->csr, k->csr_len,
	    &o);
	k->done(k->arg, r, &o);
	free(k->transid);
	free(k->csr);
	free(k);
}

int
svc_intune_check_async(struct svc_intune *si, const struct store_endpoint *ep,
    const char *transid, const uint8_t *csr, size_t csr_len,
    void (*done)(void *, int, const struct svc_intune_outcome *), void *arg)
{
	struct async_check *k = NULL;
	int r = SCEP_E_NOMEM;

	if (done == NULL || csr_len == 0 || csr_len > SCEP_MAX_INNER_DER)
		return SCEP_E_INTERNAL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return SCEP_E_NOMEM;
	k->si = si;
	k->ep = *ep;
	k->done = done;
	k->arg = arg;
	k->csr_len = csr_len;
	if ((k->transid = strdup(transid)) == NULL ||
	    (k->csr = malloc(csr_len)) == NULL)
		goto out;
	memcpy(k->csr, csr, csr_len);
	if ((r = svc_intune_submit(si, async_check_run, k)) == SCEP_OK)
		return SCEP_OK;
 out:
	free(k->transid);
	free(k->csr);
	free(k);
	return r;
}

/* ---- revocation requests from Intune (spec 9) ---- */

/* Intune's hex serial in the store's spelling: upper case, no leading
 * zeros (spec 9: normalise case and leading zeros). */
static int
norm_serial(const char *in, char *out, size_t outsz)
{
	size_t n = 0;

	while (in[0] == '0' && in[1] != '\0')
		in++;
	for (; *in != '\0'; in++) {
		if (n + 1 >= outsz || !isxdigit((unsigned char)*in))
			return -1;
		out[n++] = (char)toupper((unsigned char)*in);
	}
	out[n] = '\0';
	return n > 0 ? 0 : -1;
}

/* Did Intune name this certificate's issuer?  The DN we report (RFC 4514)
 * or the endpoint's configured issuingCertificateAuthority. */
static int
issuer_matches(const struct store_cert *c, const struct svc_intune_ep *set,
    const char *issuer)
{
	struct intune_cert_info ci;
	const unsigned char *p = c->der;
	X509 *x = NULL;
	int ok = 0;

	if (issuer[0] == '\0')
		return 1;
	if (set->issuing_ca[0] != '\0' && strcmp(set->issuing_ca, issuer) == 0)
		return 1;
	if ((x = d2i_X509(NULL, &p, (long)c->der_len)) != NULL &&
	    intune_cert_info(x, &ci) == SCEP_OK && strcmp(ci.issuer, issuer) ==
	    0)
		ok = 1;
	X509_free(x);
	return ok;
}

/* One request: revoke, or say why not. */
static void
revoke_one(struct svc_intune *si, struct svc *s, int64_t account_id,
    const struct intune_revocation_request *rq,
    struct intune_revocation_result *res, char *msg, size_t msgsz,
    struct svc_intune_revocation_report *rep)
{
	struct svc_intune_ep set;
	struct store_cert c;
	char serial[STORE_SERIAL_MAX];
	int r;

	memset(&c, 0, sizeof(c));
	res->request_context = rq->request_context;
	res->error_message = msg;
	res->succeeded = 0;
	msg[0] = '\0';
	if (rq->serial[0] == '\0' ||
	    norm_serial(rq->serial, serial, sizeof(serial)) != 0) {
		res->error_code = INTUNE_CAERR_PARAMETER;
		snprintf(msg, msgsz, "serial number missing or not hex");
		rep->failed++;
		return;
	}
	r = store_cert_get(svc_store(s), serial, &c);
	/* A tenant may only revoke what its own Intune endpoints issued;
	 * anything else is "not found" to it. */
	if (r == SCEP_OK && (svc_intune_endpoint_get(si, c.endpoint_id,
	    &set) != SCEP_OK || set.azure_account_id != account_id ||
	    !issuer_matches(&c, &set, rq->issuer)))
		r = SCEP_E_NOTFOUND;
	if (r == SCEP_E_NOTFOUND) {
		res->error_code = INTUNE_CAERR_NOTFOUND;
		snprintf(msg, msgsz, "certificate not found");
		rep->notfound++;
		goto out;
	}
	if (r != SCEP_OK) {
		res->error_code = INTUNE_CAERR_UNAVAILABLE;
		snprintf(msg, msgsz, "store unavailable");
		rep->failed++;
		goto out;
	}
	if (c.status == CERT_REVOKED) {
		/* spec 9: policy choice; success so Intune stops asking. */
		res->succeeded = 1;
		res->error_code = INTUNE_CAERR_NONE;
		rep->already++;
		goto out;
	}
	r = svc_cert_revoke(s, c.serial, CESSATION_OF_OPERATION,
	    "intune");
	if (r == SCEP_OK || r == SCEP_E_EXISTS) {
		res->succeeded = 1;
		res->error_code = INTUNE_CAERR_NONE;
		rep->revoked++;
		log_info("msg=\"certificate revoked at Intune's request\" "
		    "serial=%s azure_account_id=%lld", c.serial,
		    (long long)account_id);
	} else {
		res->error_code = INTUNE_CAERR_RETRYABLE;
		snprintf(msg, msgsz, "revocation failed: %s", scep_strerror(r));
		rep->failed++;
	}
 out:
	store_cert_clear(&c);
}

int
svc_intune_revocation_poll(struct svc_intune *si, struct svc *s,
    int64_t account_id, struct svc_intune_revocation_report *rep)
{
	struct intune_revocation_request *rv = NULL;
	struct intune_revocation_result *res = NULL;
	struct acct *a = NULL;
	char (*msgs)[96] = NULL;
	size_t n = 0, i;
	int r;

	memset(rep, 0, sizeof(*rep));
	if ((a = acct_get(si, account_id)) == NULL)
		return SCEP_E_NOTFOUND;
	r = intune_revocation_download(a->c, SVC_INTUNE_REVOKE_BATCH, NULL,
	    &rv, &n, &rep->download);
	if (r != SCEP_OK || n == 0)
		goto out;
	rep->requests = n;
	if ((res = calloc(n, sizeof(*res))) == NULL ||
	    (msgs = calloc(n, sizeof(*msgs))) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		revoke_one(si, s, account_id, &rv[i], &res[i], msgs[i],
		    sizeof(msgs[i]), rep);
	r = intune_revocation_upload(a->c, res, n, &rep->upload);
 out:
	if (r != SCEP_OK)
		log_warn("msg=\"Intune revocation poll failed\" "
		    "azure_account_id=%lld reason=\"%s\"",
		    (long long)account_id, rep->upload.action != NULL ?
		    rep->upload.message : rep->download.message);
	acct_unref(si, a);
	free(rv);
	free(res);
	free(msgs);
	return r;
}

static void *
poller(void *arg)
{
	struct svc_intune *si = arg;
	struct svc_intune_revocation_report rep;
	struct timespec until;
	int64_t ids[64];
	size_t n, i;
	struct acct *a = NULL;

	for (;;) {
		/* Which accounts ask for it, now. */
		n = 0;
		pthread_mutex_lock(&si->lock);
		for (a = si->accts; a != NULL && n < 64; a = a->next)
			if (a->poll)
				ids[n++] = a->id;
		pthread_mutex_unlock(&si->lock);
		for (i = 0; i < n; i++) {
			pthread_mutex_lock(&si->qlock);
			if (si->stopping || si->pstop) {
				pthread_mutex_unlock(&si->qlock);
				return NULL;
			}
			pthread_mutex_unlock(&si->qlock);
			if (svc_intune_revocation_poll(si, si->psvc, ids[i],
			    &rep) == SCEP_OK && rep.requests > 0)
				log_info("msg=\"Intune revocation requests\" "
				    "azure_account_id=%lld requests=%zu "
				    "revoked=%zu already=%zu notfound=%zu "
				    "failed=%zu", (long long)ids[i],
				    rep.requests, rep.revoked, rep.already,
				    rep.notfound, rep.failed);
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += si->pinterval;
		pthread_mutex_lock(&si->qlock);
		while (!si->stopping && !si->pstop &&
		    pthread_cond_timedwait(&si->pcond, &si->qlock, &until) == 0)
			;
		if (si->stopping || si->pstop) {
			pthread_mutex_unlock(&si->qlock);
			return NULL;
		}
		pthread_mutex_unlock(&si->qlock);
	}
}

int
svc_intune_poller_start(struct svc_intune *si, struct svc *s, int interval)
{
	int r = SCEP_OK;

	pthread_mutex_lock(&si->qlock);
	if (si->poller_on || si->stopping)
		r = SCEP_E_EXISTS;
	else {
		si->psvc = s;
		si->pinterval = interval > 0 ? interval :
		    SVC_INTUNE_POLL_INTERVAL;
		if (pthread_create(&si->poller, NULL, poller, si) != 0)
			r = SCEP_E_INTERNAL;
		else
			si->poller_on = 1;
	}
	pthread_mutex_unlock(&si->qlock);
	return r;
}

void
svc_intune_poller_stop(struct svc_intune *si)
{
	int on;

	pthread_mutex_lock(&si->qlock);
	on = si->poller_on;
	si->pstop = 1;
	pthread_cond_broadcast(&si->pcond);
	pthread_mutex_unlock(&si->qlock);
	if (on)
		pthread_join(si->poller, NULL);
	pthread_mutex_lock(&si->qlock);
	si->poller_on = 0;
	si->pstop = 0;
	pthread_mutex_unlock(&si->qlock);
}

/* ---- a whole PKIOperation on the pool ---- */

struct async_op {
	struct svc		*s;
	struct store_endpoint	 ep;
	uint8_t			*der;
	size_t			 len;
	char			*client_addr;
	char			*request_id;
	void			(*done)(void *, struct svc_result *);
	void			*arg;
};

static void
async_op_free(struct async_op *k)
{
	if (k == NULL)
		return;
	free(k->der);
	free(k->client_addr);
	free(k->request_id);
	free(k);
}

static void
async_op_run(void *arg)
{
	struct async_op *k = arg;
	struct svc_result res;

	memset(&res, 0, sizeof(res));
	(void)svc_pkioperation(k->s, &k->ep, k->der, k->len, k->client_addr,
	    k->request_id, &res);
	k->done(k->arg, &res);		/* res.body now belongs to done */
	async_op_free(k);
}

int
svc_intune_pkioperation_async(struct svc_intune *si, struct svc *s,
    const struct store_endpoint *ep, const uint8_t *der, size_t len,
    const char *client_addr, const char *request_id,
    void (*done)(void *, struct svc_result *), void *arg)
{
	struct async_op *k = NULL;
	int r = SCEP_E_NOMEM;

	if (done == NULL || der == NULL || len == 0 || len > SCEP_MAX_MSG_DER)
		return SCEP_E_INTERNAL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return SCEP_E_NOMEM;
	k->s = s;
	k->ep = *ep;
	k->len = len;
	k->done = done;
	k->arg = arg;
	if ((k->der = malloc(len)) == NULL ||
	    (k->client_addr = strdup(client_addr != NULL ? client_addr :
	    "-")) == NULL ||
	    (k->request_id = strdup(request_id != NULL ? request_id : "-")) ==
	    NULL)
		goto out;
	memcpy(k->der, der, len);
	if ((r = svc_intune_submit(si, async_op_run, k)) == SCEP_OK)
		return SCEP_OK;
 out:
	async_op_free(k);
	return r;
}

/* ---- the secret at rest ---- */

static int
read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

int
svc_intune_key_load(const char *path, int create,
    uint8_t key[SVC_INTUNE_KEY_LEN])
{
	struct stat st;
	uint8_t extra;
	ssize_t n;
	int fd = -1, r = SCEP_E_CONFIG;

	if (sodium_init() < 0)
		return SCEP_E_INTERNAL;
	if (create) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd >= 0) {
			randombytes_buf(key, SVC_INTUNE_KEY_LEN);
			if (write(fd, key, SVC_INTUNE_KEY_LEN) !=
			    SVC_INTUNE_KEY_LEN || fsync(fd) != 0) {
				sodium_memzero(key, SVC_INTUNE_KEY_LEN);
				close(fd);
				(void)unlink(path);
				return SCEP_E_IO;
			}
			close(fd);
			return SCEP_OK;
		}
		if (errno != EEXIST)
			return SCEP_E_IO;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? SCEP_E_NOTFOUND : SCEP_E_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077) != 0 || st.st_size != SVC_INTUNE_KEY_LEN) {
		log_error("msg=\"Azure secret key file must be a 32-byte "
		    "regular file readable by its owner only\" path=\"%s\"",
		    path);
		goto out;
	}
	if (read_full(fd, key, SVC_INTUNE_KEY_LEN) != 0) {
		r = SCEP_E_IO;
		goto out;
	}
	if ((n = read(fd, &extra, 1)) != 0) {
		sodium_memzero(key, SVC_INTUNE_KEY_LEN);
		goto out;
	}
	r = SCEP_OK;
 out:
	close(fd);
	return r;
}

int
svc_intune_secret_seal(const uint8_t key[SVC_INTUNE_KEY_LEN],
    const char *secret, uint8_t **blob, size_t *blob_len)
{
	size_t len, total;
	uint8_t *b = NULL;

	*blob = NULL;
	*blob_len = 0;
	if (secret == NULL || (len = strlen(secret)) == 0)
		return SCEP_E_INTERNAL;
	if (len > INTUNE_MAX_CFG_STR)
		return SCEP_E_TOOBIG;
	total = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
	if ((b = malloc(total)) == NULL)
		return SCEP_E_NOMEM;
	randombytes_buf(b, crypto_secretbox_NONCEBYTES);
	if (crypto_secretbox_easy(b + crypto_secretbox_NONCEBYTES,
	    (const unsigned char *)secret, len, b, key) != 0) {
		free(b);
		return SCEP_E_INTERNAL;
	}
	*blob = b;
	*blob_len = total;
	return SCEP_OK;
}

int
svc_intune_secret_open(const uint8_t key[SVC_INTUNE_KEY_LEN],
    const uint8_t *blob, size_t blob_len, char **secret)
{
	size_t len;
	char *s = NULL;

	*secret = NULL;
	if (blob == NULL || blob_len <= crypto_secretbox_NONCEBYTES +
	    crypto_secretbox_MACBYTES)
		return SCEP_E_MALFORMED;
	if (blob_len > MAX_SEALED)
		return SCEP_E_TOOBIG;
	len = blob_len - crypto_secretbox_NONCEBYTES -
	    crypto_secretbox_MACBYTES;
	if ((s = malloc(len + 1)) == NULL)
		return SCEP_E_NOMEM;
	if (crypto_secretbox_open_easy((unsigned char *)s,
	    blob + crypto_secretbox_NONCEBYTES,
	    blob_len - crypto_secretbox_NONCEBYTES, blob, key) != 0) {
		free(s);
		return SCEP_E_BADSIG;
	}
	s[len] = '\0';
	if (strlen(s) != len) {		/* a NUL inside: not ours */
		sodium_memzero(s, len);
		free(s);
		return SCEP_E_MALFORMED;
	}
	*secret = s;
	return SCEP_OK;
}

void
svc_intune_secret_free(char *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}
