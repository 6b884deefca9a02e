/*
 * test_azure_store.c -- store_azure.h (Azure accounts, their delegation
 * targets, the Intune settings of endpoints; issue 5) against a temporary
 * SQLite file, or against PostgreSQL when STORE_TEST_DSN names one
 * (tests/pg/with-cluster.sh).  TAP.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scep_err.h"
#include "store.h"
#include "store_azure.h"
#include "tap.h"

static uint8_t *
blob(uint8_t fill, size_t len)
{
	uint8_t *b = malloc(len);

	if (b != NULL)
		memset(b, fill, len);
	return b;
}

static void
account(struct store_azure_account *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->environment = 1;
	snprintf(a->tenant_id, sizeof(a->tenant_id), "contoso.onmicrosoft.us");
	snprintf(a->client_id, sizeof(a->client_id),
	    "11111111-2222-3333-4444-555555555555");
	a->secret = blob(0xa5, 60);
	a->secret_len = 60;
	snprintf(a->graph_url, sizeof(a->graph_url),
	    "https://graph.microsoft.us/");
	snprintf(a->graph_scope, sizeof(a->graph_scope),
	    "https://graph.microsoft.us/.default");
	snprintf(a->intune_app_id, sizeof(a->intune_app_id),
	    "0000000a-0000-0000-c000-000000000000");
	a->delegation_general = 1;
	a->created_at = a->updated_at = 1000;
}

int
main(void)
{
	struct store_azure_account a, b, got, list[4];
	struct store_intune_ep ie, ie2, eps[4];
	struct store_orgref t[2], tl[4];
	struct store_endpoint iep, pep;
	struct store_org org1, org2;
	struct store_ca ca;
	struct store *s = NULL;
	char dir[256], dbpath[300];
	const char *dsn = NULL, *tmp = NULL;
	int64_t v0 = 0, v1 = 0;
	size_t n = 0;
	int r;

	dir[0] = '\0';
	if ((tmp = getenv("STORE_TEST_DSN")) != NULL &&
	    (strncmp(tmp, "postgresql://", 13) == 0 ||
	    strncmp(tmp, "postgres://", 11) == 0)) {
		dsn = tmp;
		printf("# PostgreSQL: STORE_TEST_DSN\n");
	} else {
		if ((tmp = getenv("TMPDIR")) == NULL || tmp[0] == '\0')
			tmp = "/tmp";
		snprintf(dir, sizeof(dir), "%s/scepd-azure-XXXXXX", tmp);
		if (mkdtemp(dir) == NULL) {
			printf("Bail out! mkdtemp\n");
			return 1;
		}
		snprintf(dbpath, sizeof(dbpath), "%s/store.db", dir);
		dsn = dbpath;
	}
	if (store_open(dsn, &s) != SCEP_OK) {
		printf("Bail out! cannot open the store\n");
		return 1;
	}

	/* A CA, an Intune and a plain endpoint, two organizations. */
	memset(&ca, 0, sizeof(ca));
	snprintf(ca.name, sizeof(ca.name), "ca");
	snprintf(ca.key_path, sizeof(ca.key_path), "/nonexistent");
	ca.cert_der = blob(0x30, 16);
	ca.cert_len = 16;
	ca.created_at = 1;
	memset(&org1, 0, sizeof(org1));
	snprintf(org1.name, sizeof(org1.name), "org one");
	org2 = org1;
	snprintf(org2.name, sizeof(org2.name), "org two");
	memset(&iep, 0, sizeof(iep));
	snprintf(iep.name, sizeof(iep.name), "intune");
	snprintf(iep.uri_ext, sizeof(iep.uri_ext), "intune");
	iep.type = EP_DEVICE_INTUNE;
	iep.enabled = 1;
	r = store_ca_insert(s, &ca);
	iep.ca_id = ca.id;
	pep = iep;
	snprintf(pep.name, sizeof(pep.name), "plain");
	snprintf(pep.uri_ext, sizeof(pep.uri_ext), "plain");
	pep.type = EP_DEVICE_SCEP;
	tap_ok(r == SCEP_OK && store_org_insert(s, &org1) == SCEP_OK &&
	    store_org_insert(s, &org2) == SCEP_OK &&
	    store_endpoint_insert(s, &iep) == SCEP_OK &&
	    store_endpoint_insert(s, &pep) == SCEP_OK, "set-up rows");
	store_ca_clear(&ca);

	/* Insert, get. */
	account(&a, "contoso");
	t[0].org_id = org1.id;
	t[0].dept_id = 0;
	store_config_version(s, &v0);
	r = store_azure_account_insert(s, &a, t, 1);
	store_config_version(s, &v1);
	tap_ok(r == SCEP_OK && a.id > 0 && v1 > v0,
	    "insert: id set, configuration version moved");
	memset(&got, 0xff, sizeof(got));
	got.secret = NULL;
	got.proxy_password = NULL;
	r = store_azure_account_get(s, a.id, &got);
	tap_ok(r == SCEP_OK && strcmp(got.name, "contoso") == 0 &&
	    got.environment == 1 && strcmp(got.tenant_id,
	    "contoso.onmicrosoft.us") == 0 && got.secret_len == 60 &&
	    memcmp(got.secret, a.secret, 60) == 0 &&
	    got.proxy_password == NULL && got.proxy_password_len == 0 &&
	    strcmp(got.graph_url, "https://graph.microsoft.us/") == 0 &&
	    got.authority_url[0] == '\0' && got.delegation_general == 1 &&
	    strcmp(got.graph_scope, "https://graph.microsoft.us/.default") ==
	    0 && got.intune_scope[0] == '\0' && strcmp(got.intune_app_id,
	    "0000000a-0000-0000-c000-000000000000") == 0 &&
	    got.created_at == 1000 && got.deleted_at == 0,
	    "get: every field as written, the sealed secret byte for byte");
	store_azure_account_clear(&got);
	r = store_azure_account_targets(s, a.id, tl, 4, &n);
	tap_ok(r == SCEP_OK && n == 1 && tl[0].org_id == org1.id &&
	    tl[0].dept_id == 0, "delegation target stored");

	account(&b, "contoso");
	tap_ok(store_azure_account_insert(s, &b, NULL, 0) == SCEP_E_EXISTS,
	    "a live account's name is unique");
	store_azure_account_clear(&b);

	/* Update: secret rotated, proxy password added, targets replaced. */
	free(a.secret);
	a.secret = blob(0x5a, 70);
	a.secret_len = 70;
	a.proxy_password = blob(0x11, 50);
	a.proxy_password_len = 50;
	snprintf(a.proxy, sizeof(a.proxy), "http://proxy.example:3128");
	snprintf(a.proxy_user, sizeof(a.proxy_user), "puser");
	a.revocation_poll = 1;
	a.updated_at = 2000;
	t[1].org_id = org2.id;
	t[1].dept_id = 0;
	store_config_version(s, &v0);
	r = store_azure_account_update(s, &a, t, 2);
	store_config_version(s, &v1);
	tap_ok(r == SCEP_OK && v1 > v0, "update");
	r = store_azure_account_get(s, a.id, &got);
	tap_ok(r == SCEP_OK && got.secret_len == 70 && got.secret[0] == 0x5a &&
	    got.proxy_password_len == 50 && got.proxy_password[49] == 0x11 &&
	    strcmp(got.proxy_user, "puser") == 0 && got.revocation_poll == 1 &&
	    got.updated_at == 2000 && got.created_at == 1000,
	    "update: new secret, proxy password, poll flag");
	store_azure_account_clear(&got);
	r = store_azure_account_targets(s, a.id, tl, 4, &n);
	tap_ok(r == SCEP_OK && n == 2, "targets replaced (2)");
	got = a;
	got.id = 999999;
	got.secret = a.secret;
	tap_ok(store_azure_account_update(s, &got, NULL, 0) ==
	    SCEP_E_NOTFOUND, "update of a missing account: not found");

	/* Argument checks. */
	got = a;
	got.secret_len = 0;
	tap_ok(store_azure_account_update(s, &got, NULL, 0) ==
	    SCEP_E_INTERNAL, "secret required");
	got = a;
	got.secret_len = STORE_AZURE_SEALED_MAX + 1;
	tap_ok(store_azure_account_update(s, &got, NULL, 0) == SCEP_E_TOOBIG,
	    "sealed blob over its limit");
	got = a;
	got.environment = 9;
	tap_ok(store_azure_account_update(s, &got, NULL, 0) ==
	    SCEP_E_INTERNAL, "environment out of range");
	got = a;
	memset(got.name, 'x', sizeof(got.name));
	tap_ok(store_azure_account_update(s, &got, NULL, 0) == SCEP_E_TOOBIG,
	    "unterminated name");
	t[0].org_id = 0;
	tap_ok(store_azure_account_update(s, &a, t, 1) == SCEP_E_INTERNAL,
	    "bad target");
	t[0].org_id = org1.id;

	/* Intune settings of endpoints. */
	memset(&ie, 0, sizeof(ie));
	ie.endpoint_id = iep.id;
	ie.azure_account_id = a.id;
	ie.wait_success = 1;
	snprintf(ie.ca_configuration, sizeof(ie.ca_configuration), "ca-01");
	store_config_version(s, &v0);
	r = store_intune_ep_set(s, &ie);
	store_config_version(s, &v1);
	tap_ok(r == SCEP_OK && v1 > v0, "endpoint settings set");
	r = store_intune_ep_get(s, iep.id, &ie2);
	tap_ok(r == SCEP_OK && ie2.azure_account_id == a.id &&
	    ie2.wait_success == 1 && strcmp(ie2.ca_configuration, "ca-01") == 0
	    && ie2.issuing_ca[0] == '\0', "endpoint settings read back");
	ie.wait_success = 0;
	snprintf(ie.issuing_ca, sizeof(ie.issuing_ca), "CN=Issuing");
	r = store_intune_ep_set(s, &ie);
	tap_ok(r == SCEP_OK && store_intune_ep_get(s, iep.id, &ie2) ==
	    SCEP_OK && ie2.wait_success == 0 && strcmp(ie2.issuing_ca,
	    "CN=Issuing") == 0, "set again replaces (upsert)");
	ie2 = ie;
	ie2.azure_account_id = 424242;
	tap_ok(store_intune_ep_set(s, &ie2) == SCEP_E_NOTFOUND,
	    "unknown account: not found");
	ie2 = ie;
	ie2.endpoint_id = 424242;
	tap_ok(store_intune_ep_set(s, &ie2) == SCEP_E_NOTFOUND,
	    "unknown endpoint: not found");
	ie2 = ie;
	ie2.wait_success = 7;
	tap_ok(store_intune_ep_set(s, &ie2) == SCEP_E_INTERNAL,
	    "wait_success is 0 or 1");
	r = store_intune_ep_list(s, eps, 4, &n);
	tap_ok(r == SCEP_OK && n == 1 && eps[0].endpoint_id == iep.id,
	    "list");

	/* Deleting. */
	tap_ok(store_azure_account_delete(s, a.id, 3000) == SCEP_E_DENIED,
	    "an account an endpoint uses cannot be deleted");
	tap_ok(store_intune_ep_delete(s, iep.id) == SCEP_OK &&
	    store_intune_ep_get(s, iep.id, &ie2) == SCEP_E_NOTFOUND &&
	    store_intune_ep_delete(s, iep.id) == SCEP_E_NOTFOUND,
	    "endpoint settings deleted");
	tap_ok(store_azure_account_delete(s, a.id, 3000) == SCEP_OK &&
	    store_azure_account_delete(s, a.id, 3001) == SCEP_E_NOTFOUND,
	    "account deleted (soft), once");
	r = store_azure_account_list(s, list, 4, &n);
	tap_ok(r == SCEP_OK && n == 0, "a deleted account is not listed");
	r = store_azure_account_get(s, a.id, &got);
	tap_ok(r == SCEP_OK && got.deleted_at == 3000,
	    "... but still readable (audit records name it)");
	store_azure_account_clear(&got);
	tap_ok(store_intune_ep_set(s, &ie) == SCEP_E_NOTFOUND,
	    "a deleted account cannot be attached");
	account(&b, "contoso");
	tap_ok(store_azure_account_insert(s, &b, NULL, 0) == SCEP_OK &&
	    b.id != a.id, "the name is free again");
	r = store_azure_account_list(s, list, 4, &n);
	tap_ok(r == SCEP_OK && n == 1 && list[0].id == b.id &&
	    list[0].secret_len == 60, "list returns the live one");
	store_azure_account_clear(&list[0]);

	/* Settings of a deleted endpoint are not listed. */
	ie.azure_account_id = b.id;
	ie.endpoint_id = iep.id;
	(void)store_intune_ep_set(s, &ie);
	(void)store_endpoint_delete(s, iep.id, 4000);
	r = store_intune_ep_list(s, eps, 4, &n);
	tap_ok(r == SCEP_OK && n == 0, "a deleted endpoint's settings are "
	    "not listed");

	store_azure_account_clear(&a);
	store_azure_account_clear(&b);
	store_close(s);
	if (dir[0] != '\0') {
		char p[400];

		snprintf(p, sizeof(p), "%s/store.db", dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/store.db-wal", dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/store.db-shm", dir);
		unlink(p);
		rmdir(dir);
	}
	return tap_done();
}
