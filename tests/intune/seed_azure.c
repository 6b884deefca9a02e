/*
 * seed_azure.c -- test fixture for the end-to-end Intune tests
 * (test_e2e.sh): writes into a scepd data directory's store what the
 * administration API will (issue 5, helper H2), without depending on it:
 *
 *   seed_azure DATA_DIR STANDIN_BASE STANDIN_CA SECRET EP...
 *
 * An Azure account pointing at the stand-in (authority and Graph URLs,
 * CA bundle, client secret sealed with DATA_DIR/azure.key through
 * svc_intune_account_save), then one endpoint per EP argument:
 *
 *   uri_ext:type:legacy:wait_success:manual_approval:term_days
 *
 * type "client-intune", "device-intune" or "device" (a plain endpoint);
 * each a copy of the "device" endpoint `scepd init` made (CA, RA,
 * profile), Intune ones attached to the account and to a new
 * organization.  A running scepd picks all of it up at its next
 * enrollment (svc_intune_sync).  Prints "account=<id> org=<id>".
 * SEED_PROXY in the environment: the account's HTTP CONNECT proxy.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scep.h"
#include "store.h"
#include "store_azure.h"
#include "svc_intune.h"

static int
add_endpoint(struct store *st, const struct store_endpoint *tmpl,
    const char *spec, int64_t account, int64_t org)
{
	struct store_endpoint ep = *tmpl;
	struct store_intune_ep ie;
	char ext[64], type[32];
	int legacy, wait, manual, term;

	if (sscanf(spec, "%63[^:]:%31[^:]:%d:%d:%d:%d", ext, type, &legacy,
	    &wait, &manual, &term) != 6) {
		fprintf(stderr, "seed_azure: bad endpoint spec %s\n", spec);
		return -1;
	}
	ep.id = 0;
	snprintf(ep.name, sizeof(ep.name), "e2e %s", ext);
	snprintf(ep.uri_ext, sizeof(ep.uri_ext), "%s", ext);
	ep.type = strcmp(type, "client-intune") == 0 ? EP_CLIENT_INTUNE :
	    strcmp(type, "device-intune") == 0 ? EP_DEVICE_INTUNE :
	    EP_DEVICE_SCEP;
	ep.legacy = legacy;
	ep.manual_approval = manual;
	ep.profile.term_days = term;
	ep.org_id = svc_intune_is_intune(&ep) ? org : 0;
	ep.dept_id = 0;
	ep.created_at = (int64_t)time(NULL);
	ep.deleted_at = 0;
	if (store_endpoint_insert(st, &ep) != SCEP_OK) {
		fprintf(stderr, "seed_azure: cannot insert endpoint %s\n", ext);
		return -1;
	}
	if (!svc_intune_is_intune(&ep))
		return 0;
	memset(&ie, 0, sizeof(ie));
	ie.endpoint_id = ep.id;
	ie.azure_account_id = account;
	ie.wait_success = wait;
	if (store_intune_ep_set(st, &ie) != SCEP_OK) {
		fprintf(stderr, "seed_azure: cannot attach endpoint %s\n", ext);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct store *st = NULL;
	struct svc_intune *si = NULL;
	struct store_azure_account row;
	struct store_endpoint tmpl;
	struct store_org org;
	uint8_t key[SVC_INTUNE_KEY_LEN];
	char dsn[PATH_MAX + 16], path[PATH_MAX], why[256] = "";
	int i, r, rc = 1;

	if (argc < 5) {
		fprintf(stderr, "usage: seed_azure DATA_DIR STANDIN_BASE "
		    "STANDIN_CA SECRET EP...\n");
		return 2;
	}
	memset(&row, 0, sizeof(row));
	memset(&tmpl, 0, sizeof(tmpl));
	memset(&org, 0, sizeof(org));
	snprintf(dsn, sizeof(dsn), "sqlite:%s/scepd.db", argv[1]);
	snprintf(path, sizeof(path), "%s/azure.key", argv[1]);
	if ((r = svc_intune_key_load(path, 0, key)) != SCEP_OK ||
	    (r = store_open(dsn, &st)) != SCEP_OK ||
	    (r = svc_intune_new(&(struct svc_intune_config){
	    .caller_info = "seed" }, st, &si)) != SCEP_OK) {
		fprintf(stderr, "seed_azure: %s\n", scep_strerror(r));
		goto out;
	}
	svc_intune_set_key(si, key);

	snprintf(row.name, sizeof(row.name), "stand-in tenant");
	row.environment = INTUNE_ENV_GLOBAL;
	snprintf(row.tenant_id, sizeof(row.tenant_id),
	    "contoso.onmicrosoft.com");
	snprintf(row.client_id, sizeof(row.client_id),
	    "11111111-1111-1111-1111-111111111111");
	snprintf(row.authority_url, sizeof(row.authority_url), "%s", argv[2]);
	snprintf(row.graph_url, sizeof(row.graph_url), "%s", argv[2]);
	snprintf(row.graph_scope, sizeof(row.graph_scope),
	    "https://graph.microsoft.com/.default");
	snprintf(row.ca_bundle_path, sizeof(row.ca_bundle_path), "%s",
	    argv[3]);
	row.delegation_general = 1;
	if (getenv("SEED_PROXY") != NULL)
		snprintf(row.proxy, sizeof(row.proxy), "%s",
		    getenv("SEED_PROXY"));
	if ((r = svc_intune_account_save(si, &row, argv[4], NULL, NULL, 0, why,
	    sizeof(why))) != SCEP_OK) {
		fprintf(stderr, "seed_azure: account: %s (%s)\n",
		    scep_strerror(r), why);
		goto out;
	}
	snprintf(org.name, sizeof(org.name), "e2e devices");
	org.created_at = (int64_t)time(NULL);
	if (store_org_insert(st, &org) != SCEP_OK ||
	    store_endpoint_by_ext(st, "device", &tmpl) != SCEP_OK) {
		fprintf(stderr, "seed_azure: no organization or no template "
		    "endpoint \"device\"\n");
		goto out;
	}
	for (i = 5; i < argc; i++)
		if (add_endpoint(st, &tmpl, argv[i], row.id, org.id) != 0)
			goto out;
	printf("account=%lld org=%lld\n", (long long)row.id,
	    (long long)org.id);
	rc = 0;
 out:
	store_azure_account_clear(&row);
	svc_intune_free(si);
	store_close(st);
	return rc;
}
