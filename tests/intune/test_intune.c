/*
 * test_intune.c -- src/intune against the stand-in (standin.py) over TLS
 * with a test CA: spec intune-scep.md 10.2 cases 2, 3, 6, 10-15 at the
 * client level (the SCEP-level cases run through svc_intune and scepd).
 *
 * Usage: test_intune PYTHON3 STANDIN_PY
 *
 * Our log (stderr) is captured in a file for the whole run, so that the
 * last checks can prove no secret ever reached it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "intune.h"
#include "standin_util.h"
#include "scep_err.h"
#include "tap.h"

#define SECRET		"standin-secret"
#define ROTATED		"rotated-secret-\xc3\xa9&=+"
#define PROXY_PASS	"proxy-pass-word"
#define TENANT		"contoso.onmicrosoft.com"
#define CLIENT_ID	"11111111-1111-1111-1111-111111111111"
#define CALLER		"scepd-test/1.0"

static uint8_t *csr_ok;
static size_t csr_ok_len;

static void
base_cfg(struct intune_account_cfg *cfg)
{
	int i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->environment = INTUNE_ENV_GLOBAL;
	cfg->tenant_id = TENANT;
	cfg->client_id = CLIENT_ID;
	cfg->client_secret = SECRET;
	cfg->caller_info = CALLER;
	cfg->authority_url = su_base;
	cfg->graph_url = su_base;
	cfg->ca_bundle_path = su_ca;
	/* The stand-in expects the global scopes (it checks them). */
	cfg->graph_scope = "https://graph.microsoft.com/.default";
	for (i = 0; i < INTUNE_OP__MAX; i++) {
		cfg->timeouts[i].connect_ms = 2000;
		cfg->timeouts[i].total_ms = 4000;
	}
}

static struct intune_client *
client(const struct intune_account_cfg *cfg)
{
	struct intune_client *c = NULL;
	char why[256];

	if (intune_client_new(cfg, &c, why, sizeof(why)) != SCEP_OK) {
		printf("# intune_client_new: %s\n", why);
		return NULL;
	}
	return c;
}

static int
validate_challenge(struct intune_client *c, const char *challenge,
    const char *transid, struct intune_call *out)
{
	uint8_t *der = NULL;
	size_t len = 0;
	int r;

	if (su_make_csr(challenge, &der, &len) != 0)
		return SCEP_E_INTERNAL;
	r = intune_validate(c, transid, der, len, out);
	OPENSSL_free(der);
	return r;
}

static int
is_guid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!strchr("0123456789abcdef", s[i]))
			return 0;
	}
	return s[14] == '4';
}

/* ---- tests ---- */

static void
test_config(void)
{
	struct intune_account_cfg cfg;
	struct intune_client *c = NULL;
	char why[256];

	base_cfg(&cfg);
	cfg.tenant_id = NULL;
	tap_ok(intune_client_new(&cfg, &c, why, sizeof(why)) == SCEP_E_CONFIG
	    && c == NULL && strstr(why, "tenant") != NULL,
	    "config: tenant required (%s)", why);
	base_cfg(&cfg);
	cfg.tenant_id = "contoso/../x";
	tap_ok(intune_client_new(&cfg, &c, why, sizeof(why)) == SCEP_E_CONFIG,
	    "config: tenant with a path is refused");
	base_cfg(&cfg);
	cfg.authority_url = "http://login.example/";
	tap_ok(intune_client_new(&cfg, &c, why, sizeof(why)) == SCEP_E_CONFIG,
	    "config: plain http authority refused");
	base_cfg(&cfg);
	cfg.proxy = "http://user:pw@127.0.0.1:3128";
	tap_ok(intune_client_new(&cfg, &c, why, sizeof(why)) == SCEP_E_CONFIG &&
	    strstr(why, "pw") == NULL,
	    "config: credentials inside the proxy URL refused, not echoed");
	base_cfg(&cfg);
	cfg.proxy = "http://127.0.0.1:3128";
	cfg.proxy_user = "u";
	tap_ok(intune_client_new(&cfg, &c, why, sizeof(why)) == SCEP_E_CONFIG,
	    "config: proxy user needs a password (spec 3)");
	base_cfg(&cfg);
	cfg.caller_info = "evil\r\nX-Injected: 1";
	tap_ok(intune_client_new(&cfg, &c, why, sizeof(why)) == SCEP_E_CONFIG,
	    "config: header injection through caller info refused");
	base_cfg(&cfg);
	cfg.timeouts[INTUNE_OP_VALIDATE].total_ms = 3600 * 1000;
	tap_ok(intune_client_new(&cfg, &c, why, sizeof(why)) == SCEP_E_CONFIG,
	    "config: absurd timeout refused");
	base_cfg(&cfg);
	cfg.environment = INTUNE_ENV_CHINA;
	cfg.authority_url = cfg.graph_url = NULL;
	tap_ok(intune_client_new(&cfg, &c, why, sizeof(why)) == SCEP_E_CONFIG &&
	    strstr(why, "Intune resource") != NULL,
	    "config: China has no known Intune resource URL: must be set");
	base_cfg(&cfg);
	cfg.ca_bundle_path = "/nonexistent/ca.pem";
	tap_ok(intune_client_new(&cfg, &c, why, sizeof(why)) == SCEP_E_CONFIG,
	    "config: unreadable CA bundle refused");

	/* spec 11 and 10.2 case 14: sovereign URLs used verbatim. */
	base_cfg(&cfg);
	cfg.environment = INTUNE_ENV_USGOV;
	cfg.authority_url = cfg.graph_url = NULL;
	cfg.graph_scope = NULL;
	c = client(&cfg);
	tap_ok(c != NULL && strcmp(intune_client_token_url(c),
	    "https://login.microsoftonline.us/" TENANT
	    "/oauth2/v2.0/token") == 0,
	    "usgov: token URL %s", c ? intune_client_token_url(c) : "-");
	tap_ok(c != NULL && strcmp(intune_client_discovery_url(c),
	    "https://graph.microsoft.us/v1.0/servicePrincipals/appId="
	    "0000000a-0000-0000-c000-000000000000/endpoints") == 0,
	    "usgov: discovery URL %s",
	    c ? intune_client_discovery_url(c) : "-");
	tap_ok(c != NULL && strcmp(intune_client_scope(c, 0),
	    "https://graph.microsoft.us/.default") == 0 &&
	    strcmp(intune_client_scope(c, 1),
	    "https://api.manage.microsoft.us//.default") == 0,
	    "usgov: scopes built like Microsoft's libraries (double slash)");
	intune_client_free(c);

	base_cfg(&cfg);
	cfg.environment = INTUNE_ENV_CUSTOM;
	cfg.authority_url = "https://login.example.test";
	cfg.graph_url = "https://graph.example.test/";
	cfg.graph_scope = NULL;
	cfg.graph_api_version = "beta";
	cfg.intune_resource_url = "https://intune.example.test/";
	cfg.intune_app_id = "12345678-0000-0000-0000-000000000000";
	c = client(&cfg);
	tap_ok(c != NULL && strcmp(intune_client_token_url(c),
	    "https://login.example.test/" TENANT "/oauth2/v2.0/token") == 0 &&
	    strcmp(intune_client_discovery_url(c),
	    "https://graph.example.test/vbeta/servicePrincipals/appId="
	    "12345678-0000-0000-0000-000000000000/endpoints") == 0 &&
	    strcmp(intune_client_scope(c, 1),
	    "https://intune.example.test//.default") == 0,
	    "custom: every URL overridable, authority gets its '/'");
	intune_client_free(c);

	base_cfg(&cfg);
	cfg.environment = INTUNE_ENV_GLOBAL;
	cfg.authority_url = cfg.graph_url = NULL;
	cfg.graph_scope = NULL;
	cfg.intune_scope = "https://api.manage.microsoft.com/.default";
	c = client(&cfg);
	tap_ok(c != NULL && strcmp(intune_client_scope(c, 1),
	    "https://api.manage.microsoft.com/.default") == 0 &&
	    strcmp(intune_client_scope(c, 0),
	    "https://graph.microsoft.com/.default") == 0,
	    "global: Graph scope default, Intune scope override verbatim");
	intune_client_free(c);
	tap_ok(intune_env_parse("usgov-dod") == INTUNE_ENV_USGOV_DOD &&
	    intune_env_parse("mars") == -1 &&
	    strcmp(intune_env_graph(INTUNE_ENV_USGOV_DOD),
	    "https://dod-graph.microsoft.us/") == 0,
	    "environment names and spec 11 table");
}

static void
test_happy(struct intune_client *c)
{
	struct intune_call out;
	struct intune_stats st;
	json_t *all = NULL, *v = NULL, *tok = NULL;
	const char *h = NULL;
	char *b64 = NULL;
	int r;

	su_reset();
	r = intune_validate(c, "TXN-happy-1", csr_ok, csr_ok_len, &out);
	tap_ok(r == SCEP_OK && out.rc == SCEP_OK && strcmp(out.code,
	    "Success") == 0 && out.http_status == 200 && out.attempts == 1 &&
	    out.stage == INTUNE_STAGE_NONE,
	    "validateRequest STANDIN-OK: Success (rc %d code %s msg %s)", r,
	    out.code, out.message);
	tap_ok(is_guid(out.request_ids[0]), "client-request-id is a v4 GUID "
	    "(%s)", out.request_ids[0]);
	all = su_calls();
	tap_ok(su_count_violations(all) == 0, "stand-in found no violation of "
	    "spec 6 (headers, body shape, formats, CSR signature)");
	tap_ok(json_array_size(all) == 4 &&
	    strcmp(json_string_value(json_object_get(json_array_get(all, 0),
	    "kind")), "token") == 0 &&
	    strcmp(json_string_value(json_object_get(json_array_get(all, 1),
	    "kind")), "discovery") == 0 &&
	    strcmp(json_string_value(json_object_get(json_array_get(all, 2),
	    "kind")), "token") == 0 &&
	    strcmp(json_string_value(json_object_get(json_array_get(all, 3),
	    "kind")), "validateRequest") == 0,
	    "order: Graph token, discovery, Intune token, validateRequest "
	    "(spec 7)");
	tok = su_nth_kind(all, "token", 0);
	tap_ok(tok != NULL && strcmp(json_string_value(json_object_get(tok,
	    "scope")), "https://graph.microsoft.com/.default") == 0 &&
	    strcmp(json_string_value(json_object_get(json_object_get(tok,
	    "form"), "grant_type")), "client_credentials") == 0 &&
	    strcmp(json_string_value(json_object_get(json_object_get(tok,
	    "form"), "client_id")), CLIENT_ID) == 0,
	    "token request: client_credentials, client_id, Graph scope");
	tok = su_nth_kind(all, "token", 1);
	tap_ok(tok != NULL && strcmp(json_string_value(json_object_get(tok,
	    "scope")), "https://api.manage.microsoft.com//.default") == 0,
	    "second token: Intune scope with the double slash (spec 4.1)");
	tap_ok(tok != NULL && strcmp(json_string_value(json_object_get(tok,
	    "path")), "/" TENANT "/oauth2/v2.0/token") == 0,
	    "token path {authority}{tenant}/oauth2/v2.0/token");
	v = su_nth_kind(all, "validateRequest", 0);
	tap_ok(v != NULL && strcmp(json_string_value(json_object_get(v,
	    "path")), "/intune/svc1/ScepActions/validateRequest") == 0,
	    "POST {serviceUri}/ScepActions/validateRequest");
	h = su_header(v, "api-version");
	tap_ok(h != NULL && strcmp(h, "2018-02-20") == 0,
	    "api-version: 2018-02-20 as a header (spec 6.1)");
	h = su_header(v, "client-request-id");
	tap_ok(h != NULL && strcmp(h, out.request_ids[0]) == 0,
	    "the client-request-id sent is the one in the outcome");
	h = su_header(v, "UserAgent");
	tap_ok(h != NULL && strcmp(h, CALLER) == 0, "UserAgent: %s", CALLER);
	h = su_header(v, "User-Agent");
	tap_ok(h != NULL && strcmp(h, CALLER) == 0, "User-Agent: %s", CALLER);
	h = su_header(v, "Content-Type");
	tap_ok(h != NULL && strcmp(h, "application/json") == 0,
	    "Content-Type: application/json");
	h = su_header(v, "Accept");
	tap_ok(h != NULL && strcmp(h, "application/json") == 0,
	    "Accept: application/json");
	h = su_header(v, "Authorization");
	tap_ok(h != NULL && strncmp(h, "Bearer standin.", 15) == 0,
	    "Authorization: Bearer <Intune token>");
	tap_ok(su_field(v, "request", "transactionId") != NULL &&
	    strcmp(su_field(v, "request", "transactionId"), "TXN-happy-1") == 0,
	    "transactionId is the SCEP transactionID");
	b64 = malloc(csr_ok_len * 2 + 8);
	EVP_EncodeBlock((unsigned char *)b64, csr_ok, (int)csr_ok_len);
	tap_ok(su_field(v, "request", "certificateRequest") != NULL &&
	    strcmp(su_field(v, "request", "certificateRequest"), b64) == 0 &&
	    strchr(su_field(v, "request", "certificateRequest"), '\n') == NULL,
	    "certificateRequest: one-line base64 of the exact DER (spec 6.2)");
	tap_ok(json_is_true(json_object_get(v, "csr_verified")),
	    "stand-in verified the CSR signature");
	tap_ok(su_field(v, "request", "callerInfo") != NULL &&
	    strcmp(su_field(v, "request", "callerInfo"), CALLER) == 0,
	    "callerInfo");
	tap_ok(json_object_size(json_object_get(json_object_get(v, "json"),
	    "request")) == 3 && json_object_size(json_object_get(v, "json")) ==
	    1, "body is exactly {\"request\": {3 fields}}");
	free(b64);
	json_decref(all);

	/* spec 10.2 case 10: cached token and discovery. */
	intune_client_stats(c, &st);
	r = intune_validate(c, "TXN-happy-2", csr_ok, csr_ok_len, &out);
	all = su_calls();
	tap_ok(r == SCEP_OK && su_count_kind(all, "token") == 2 &&
	    su_count_kind(all, "discovery") == 1 &&
	    su_count_kind(all, "validateRequest") == 2,
	    "second call: no new token, no new discovery");
	tap_ok(strcmp(out.request_ids[0], su_header(su_nth_kind(all,
	    "validateRequest", 0), "client-request-id")) != 0,
	    "a new client-request-id per call");
	json_decref(all);
}

struct conc {
	struct intune_client	*c;
	int			 rc;
	int			 n;
};

static void *
conc_run(void *arg)
{
	struct conc *k = arg;
	struct intune_call out;
	char tid[32];

	snprintf(tid, sizeof(tid), "TXN-conc-%d", k->n);
	k->rc = intune_validate(k->c, tid, csr_ok, csr_ok_len, &out);
	return NULL;
}

static void
test_tokens(struct intune_client *c, const struct intune_account_cfg *bcfg)
{
	struct intune_account_cfg cfg = *bcfg;
	struct intune_client *c2 = NULL;
	struct intune_call out;
	struct intune_stats s0, s1;
	struct conc k[16];
	pthread_t th[16];
	json_t *all = NULL;
	int i, ok = 1;

	/* Single flight: 16 concurrent calls on an empty cache. */
	su_reset();
	intune_client_flush(c);
	for (i = 0; i < 16; i++) {
		k[i].c = c;
		k[i].n = i;
		pthread_create(&th[i], NULL, conc_run, &k[i]);
	}
	for (i = 0; i < 16; i++) {
		pthread_join(th[i], NULL);
		ok &= k[i].rc == SCEP_OK;
	}
	all = su_calls();
	if (su_count_kind(all, "discovery") != 1) {
		size_t q;
		json_t *e = NULL;

		json_array_foreach(all, q, e)
			printf("# %s %s %s\n", json_string_value(
			    json_object_get(e, "kind")), su_header(e,
			    "client-request-id"), json_string_value(
			    json_object_get(e, "behaviour")));
	}
	tap_ok(ok && su_count_kind(all, "token") == 2 &&
	    su_count_kind(all, "discovery") == 1 &&
	    su_count_kind(all, "validateRequest") == 16,
	    "16 concurrent calls: one token per scope, one discovery "
	    "(tokens %zu, discoveries %zu)", su_count_kind(all, "token"),
	    su_count_kind(all, "discovery"));
	tap_ok(su_count_violations(all) == 0, "no violation, "
	    "client-request-ids "
	    "unique across concurrent calls");
	json_decref(all);

	/* Expiry: a 4 s token is refreshed after half its life. */
	su_reset();
	su_ctl0("config", "{\"expires_in\": 4}");
	intune_client_flush(c);
	(void)intune_validate(c, "TXN-exp-1", csr_ok, csr_ok_len, &out);
	sleep(3);
	(void)intune_validate(c, "TXN-exp-2", csr_ok, csr_ok_len, &out);
	all = su_calls();
	tap_ok(out.rc == SCEP_OK && su_count_kind(all, "token") == 3,
	    "short-lived Intune token refreshed before expiry (tokens %zu)",
	    su_count_kind(all, "token"));
	json_decref(all);

	/* 401 once: one refresh, one retry. */
	su_reset();
	intune_client_flush(c);
	(void)intune_validate(c, "TXN-401-warm", csr_ok, csr_ok_len, &out);
	intune_client_stats(c, &s0);
	su_ctl0("config", "{\"script\": {\"validateRequest\": [\"401\"]}}");
	i = intune_validate(c, "TXN-401", csr_ok, csr_ok_len, &out);
	intune_client_stats(c, &s1);
	all = su_calls();
	tap_ok(i == SCEP_OK && out.attempts == 2 &&
	    s1.token_refresh_401 == s0.token_refresh_401 + 1 &&
	    s1.token_requests == s0.token_requests + 1 &&
	    su_count_kind(all, "validateRequest") == 3,
	    "validateRequest 401: one token refresh and one retry "
	    "(attempts %d)",
	    out.attempts);
	json_decref(all);

	/* Tokens expired at the service: refresh, no rediscovery. */
	su_ctl0("expire_tokens", "{}");
	intune_client_stats(c, &s0);
	i = intune_validate(c, "TXN-expired", csr_ok, csr_ok_len, &out);
	intune_client_stats(c, &s1);
	tap_ok(i == SCEP_OK && out.attempts == 2 &&
	    s1.discoveries == s0.discoveries,
	    "expired token at the service: refreshed, retried, discovery "
	    "still cached");

	/* 401 twice: give up. */
	su_ctl0("config", "{\"script\": {\"validateRequest\": "
	    "[\"401\", \"401\"]}}");
	i = intune_validate(c, "TXN-401x2", csr_ok, csr_ok_len, &out);
	tap_ok(i == SCEP_E_CONFIG && out.http_status == 401 &&
	    out.attempts == 2 && out.stage == INTUNE_STAGE_CALL,
	    "401 after a fresh token: failed, no third attempt");

	/* expires_in as a string (spec 4.2). */
	su_reset();
	su_ctl0("config", "{\"expires_in_string\": true, "
	    "\"expires_in\": 3599}");
	intune_client_flush(c);
	i = intune_validate(c, "TXN-expstr", csr_ok, csr_ok_len, &out);
	tap_ok(i == SCEP_OK, "expires_in as a numeric string accepted");

	/* Token endpoint 500 once: retried (spec 6.5). */
	su_reset();
	su_ctl0("config", "{\"script\": {\"token\": [\"HTTP-500\"]}}");
	intune_client_flush(c);
	intune_client_stats(c, &s0);
	i = intune_validate(c, "TXN-tok500", csr_ok, csr_ok_len, &out);
	intune_client_stats(c, &s1);
	tap_ok(i == SCEP_OK && s1.token_requests == s0.token_requests + 3,
	    "token endpoint 500 once: retried");

	/* Token endpoint resets the connection once: retried. */
	su_reset();
	su_ctl0("config", "{\"script\": {\"token\": [\"DROP\"]}}");
	intune_client_flush(c);
	intune_client_stats(c, &s0);
	i = intune_validate(c, "TXN-tokdrop", csr_ok, csr_ok_len, &out);
	intune_client_stats(c, &s1);
	/* Ours or libcurl's own resend on a fresh connection: either way
	 * the token request is made again (it is idempotent). */
	all = su_calls();
	tap_ok(i == SCEP_OK && strcmp(json_string_value(json_object_get(
	    su_nth_kind(all, "token", 0), "behaviour")), "DROP") == 0,
	    "token endpoint reset once: survived (%llu requests of ours)",
	    (unsigned long long)(s1.token_requests - s0.token_requests));
	json_decref(all);

	/* spec 10.2 case 6: the secret is refused. */
	su_reset();
	cfg.client_secret = "wrong-secret";
	c2 = client(&cfg);
	i = c2 ? validate_challenge(c2, "STANDIN-OK/n6", "TXN-badsecret",
	    &out) : -1;
	all = su_calls();
	tap_ok(i == SCEP_E_CONFIG && out.stage == INTUNE_STAGE_TOKEN &&
	    strcmp(out.aadsts, "AADSTS7000215") == 0 &&
	    strstr(out.message, "invalid_client") != NULL &&
	    su_count_kind(all, "validateRequest") == 0,
	    "wrong secret: no call, AADSTS7000215 named (%s)", out.message);
	tap_ok(strstr(out.message, "wrong-secret") == NULL,
	    "the secret is not in the message");
	json_decref(all);
	intune_client_free(c2);
	c2 = NULL;

	su_ctl0("config", "{\"script\": {\"token\": [\"NOAPP\"]}}");
	intune_client_flush(c);
	i = intune_validate(c, "TXN-noapp", csr_ok, csr_ok_len, &out);
	tap_ok(i == SCEP_E_CONFIG && strcmp(out.aadsts, "AADSTS700016") == 0,
	    "application not in tenant: AADSTS700016");
	su_ctl0("config", "{\"script\": {\"token\": "
	    "[\"OK\", \"NORESOURCE\"]}}");
	intune_client_flush(c);
	i = intune_validate(c, "TXN-nores", csr_ok, csr_ok_len, &out);
	tap_ok(i == SCEP_E_CONFIG && strcmp(out.aadsts, "AADSTS500011") == 0 &&
	    out.stage == INTUNE_STAGE_TOKEN,
	    "wrong Intune resource: AADSTS500011 at the Intune token");

	/* spec 10.2 case 14: rotation takes effect at once. */
	su_reset();
	intune_client_flush(c);
	(void)intune_validate(c, "TXN-rot-0", csr_ok, csr_ok_len, &out);
	su_ctl0("config", "{\"client_secret\": \"" "rotated-secret-\\u00e9&=+"
	    "\"}");
	tap_ok(intune_client_set_secret(c, ROTATED) == SCEP_OK,
	    "set_secret");
	intune_client_stats(c, &s0);
	i = intune_validate(c, "TXN-rot-1", csr_ok, csr_ok_len, &out);
	intune_client_stats(c, &s1);
	all = su_calls();
	tap_ok(i == SCEP_OK && s1.token_requests == s0.token_requests + 1 &&
	    strcmp(json_string_value(json_object_get(json_object_get(
	    su_nth_kind(all, "token", 2), "form"), "client_secret")), ROTATED)
	    == 0, "rotated secret: cached token dropped, new one fetched with "
	    "the new secret (URL-encoded correctly)");
	json_decref(all);
	su_ctl0("config", "{\"client_secret\": \"" SECRET "\"}");
	intune_client_set_secret(c, SECRET);
}

static const char *const codes[] = {
	"Unknown", "CertificateRequestDecodingFailed",
	"ChallengePasswordMissing", "ChallengeDeserializationError",
	"ChallengeDecryptionError", "ChallengeDecodingError",
	"ChallengeInvalidTimestamp", "ChallengeExpired", "SubjectNameMissing",
	"SubjectNameMismatch", "SubjectAltNameMissing",
	"SubjectAltNameMismatch", "KeyUsageMismatch", "KeyLengthMismatch",
	"EnhancedKeyUsageMissing", "EnhancedKeyUsageMismatch",
	"AadKeyIdentifierListMissing", "RegisteredKeyMismatch",
	"SigningCertThumbprintMismatch",
	"ScepProfileNoLongerTargetedToTheClient", "SignatureValidationFailed",
	"BadCertificateRequestIdInChallenge", "BadDeviceIdInChallenge",
	"BadUserIdInChallenge", "SomeFutureCode",
};

static void
test_validate_outcomes(struct intune_client *c)
{
	struct intune_call out;
	char ch[128];
	size_t i;
	int r, ok = 1;
	int64_t t0;
	json_t *all = NULL;

	su_reset();
	intune_client_flush(c);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		snprintf(ch, sizeof(ch), "STANDIN-ERR-%s/n%zu", codes[i], i);
		r = validate_challenge(c, ch, "TXN-codes", &out);
		if (r != SCEP_E_DENIED || strcmp(out.code, codes[i]) != 0 ||
		    out.stage != INTUNE_STAGE_REJECTED || out.attempts != 1) {
			ok = 0;
			printf("# %s: rc %d code %s\n", codes[i], r, out.code);
		}
	}
	tap_ok(ok, "every code of spec 6.4 and an unknown one: rejected, "
	    "code kept, one attempt");
	r = validate_challenge(c, "STANDIN-ERR-ChallengeExpired/x",
	    "TXN-exp", &out);
	tap_ok(r == SCEP_E_DENIED && strstr(out.message,
	    "ChallengeExpired") != NULL, "errorDescription kept as message");
	r = validate_challenge(c, "STANDIN-ERR-/x", "TXN-empty", &out);
	tap_ok(r == SCEP_E_DENIED && out.code[0] == '\0',
	    "empty code: rejected");
	r = validate_challenge(c, "STANDIN-NOCODE/x", "TXN-nocode", &out);
	tap_ok(r == SCEP_E_DENIED, "missing code: rejected");
	r = validate_challenge(c, "STANDIN-LOWER/x", "TXN-lower", &out);
	tap_ok(r == SCEP_E_DENIED && strcmp(out.code, "success") == 0,
	    "lower-case \"success\": rejected (exact match, spec 6.4)");

	/* spec 10.2 case 3 and 6.5: no retry after an answer. */
	r = validate_challenge(c, "STANDIN-HTTP-500/x", "TXN-500", &out);
	tap_ok(r == SCEP_E_IO && out.http_status == 500 && out.attempts == 1 &&
	    out.stage == INTUNE_STAGE_CALL,
	    "HTTP 500 with JSON: failed, not retried");
	r = validate_challenge(c, "STANDIN-HTML-500/x", "TXN-500h", &out);
	tap_ok(r == SCEP_E_IO && out.http_status == 500 && out.attempts == 1,
	    "HTTP 500 with HTML: failed, not retried");
	r = validate_challenge(c, "STANDIN-HTTP-429/x", "TXN-429", &out);
	tap_ok(r == SCEP_E_IO && out.attempts == 1, "HTTP 429: not retried");
	r = validate_challenge(c, "STANDIN-HTTP-403/x", "TXN-403", &out);
	tap_ok(r == SCEP_E_IO && out.http_status == 403, "HTTP 403: failed");
	r = validate_challenge(c, "STANDIN-GARBAGE/x", "TXN-garbage", &out);
	tap_ok(r == SCEP_E_MALFORMED && out.stage == INTUNE_STAGE_RESPONSE &&
	    out.http_status == 200, "200 with a non-JSON body: malformed");
	r = validate_challenge(c, "STANDIN-DROP/x", "TXN-drop", &out);
	tap_ok(r == SCEP_E_IO && out.attempts == 1 && out.http_status == 0,
	    "connection closed after the request: failed, never resent");
	t0 = time(NULL);
	r = validate_challenge(c, "STANDIN-SLOW-6000/x", "TXN-slow", &out);
	tap_ok(r == SCEP_E_IO && out.attempts == 1 && out.elapsed_ms >= 3900 &&
	    out.elapsed_ms < 5900 && strstr(out.message, "timed out") != NULL,
	    "read timeout (4 s): failed, not resent (%ld ms)", out.elapsed_ms);
	(void)t0;
	r = validate_challenge(c, "STANDIN-SLOW-300/x", "TXN-slowok", &out);
	tap_ok(r == SCEP_OK && out.elapsed_ms >= 300,
	    "slow (300 ms) but in time: Success, elapsed %ld ms (%s)",
	    out.elapsed_ms, out.message);

	/* Per-transaction override beats the challenge. */
	su_ctl0("config", "{\"tx\": {\"TXN-override\": {\"validateRequest\": "
	    "\"ERR-KeyLengthMismatch\"}}}");
	r = validate_challenge(c, "STANDIN-OK/x", "TXN-override", &out);
	tap_ok(r == SCEP_E_DENIED && strcmp(out.code, "KeyLengthMismatch") == 0,
	    "per-transaction scripting");
	all = su_calls();
	tap_ok(su_count_violations(all) == 0,
	    "no violations in the outcome runs");
	json_decref(all);
}

static void
test_discovery(struct intune_client *c, const struct intune_account_cfg *bcfg)
{
	struct intune_account_cfg cfg = *bcfg;
	struct intune_client *c2 = NULL;
	struct intune_call out;
	struct intune_stats s0, s1;
	json_t *all = NULL;
	int r;
	static const struct {
		const char	*mode;
		int		 want;
		size_t		 discoveries;
		const char	*what;
	} variants[] = {
		{ "duplicate", SCEP_OK, 1, "duplicates: the first entry wins" },
		{ "mixedcase", SCEP_OK, 1, "providerName compared "
		    "case-insensitively" },
		{ "slash", SCEP_OK, 1, "trailing '/' of uri stripped" },
		{ "servicename", SCEP_OK, 1,
		    "serviceName accepted (spec 5.3)" },
		{ "paged", SCEP_OK, 2, "@odata.nextLink followed" },
		{ "weird", SCEP_OK, 1, "broken entries skipped, never used" },
		{ "missing", SCEP_E_CONFIG, 1, "service missing: configuration "
		    "error" },
		{ "403", SCEP_E_CONFIG, 1, "HTTP 403: permission named" },
		{ "garbage", SCEP_E_MALFORMED, 1, "non-JSON discovery answer" },
	};
	size_t i;

	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		char conf[128];
		json_t *v = NULL;

		su_reset();
		snprintf(conf, sizeof(conf), "{\"discovery\": \"%s\"}",
		    variants[i].mode);
		su_ctl0("config", conf);
		intune_client_flush(c);
		r = intune_validate(c, "TXN-disc", csr_ok, csr_ok_len, &out);
		all = su_calls();
		v = su_nth_kind(all, "validateRequest", 0);
		tap_ok(r == variants[i].want &&
		    su_count_kind(all, "discovery") ==
		    variants[i].discoveries &&
		    (r != SCEP_OK || (v != NULL && strcmp(json_string_value(
		    json_object_get(v, "path")),
		    "/intune/svc1/ScepActions/validateRequest") == 0)) &&
		    (r == SCEP_OK || out.stage == INTUNE_STAGE_DISCOVERY),
		    "discovery %s: %s (rc %d: %s)", variants[i].mode,
		    variants[i].what, r, out.message);
		if (strcmp(variants[i].mode, "403") == 0)
			tap_ok(strstr(out.message,
			    "Authorization_RequestDenied") != NULL &&
			    strstr(out.message,
			    "Application.Read.All") != NULL,
			    "403 message names the code and the permission");
		if (strcmp(variants[i].mode, "missing") == 0)
			tap_ok(strstr(out.message,
			    "ScepRequestValidationFEService") != NULL,
			    "missing service named in the message");
		json_decref(all);
	}

	/* Graph 500 once: retried. */
	su_reset();
	su_ctl0("config", "{\"script\": {\"discovery\": [\"HTTP-500\"]}}");
	intune_client_flush(c);
	r = intune_validate(c, "TXN-disc500", csr_ok, csr_ok_len, &out);
	all = su_calls();
	tap_ok(r == SCEP_OK && su_count_kind(all, "discovery") == 2,
	    "Graph 500 once: retried");
	json_decref(all);

	/* spec 10.2 case 11: the URI moves and the old one dies. */
	su_reset();
	su_ctl0("config", "{\"service\": \"alt\"}");
	intune_client_flush(c);
	r = intune_validate(c, "TXN-alt", csr_ok, csr_ok_len, &out);
	all = su_calls();
	{
		const char *srv = json_string_value(json_object_get(
		    su_nth_kind(all, "validateRequest", 0), "server"));

		tap_ok(r == SCEP_OK && srv != NULL && strcmp(srv, "alt") == 0,
		    "service at the alternative URI");
	}
	json_decref(all);
	su_ctl0("config", "{\"service\": \"main\", \"service_prefix\": "
	    "\"/intune/svc2\"}");
	su_ctl0("alt_down", "{}");
	intune_client_stats(c, &s0);
	r = intune_validate(c, "TXN-moved", csr_ok, csr_ok_len, &out);
	intune_client_stats(c, &s1);
	all = su_calls();
	tap_ok(r == SCEP_OK && out.attempts == 2 &&
	    s1.rediscoveries == s0.rediscoveries + 1 &&
	    su_count_kind(all, "discovery") == 2 && strcmp(json_string_value(
	    json_object_get(su_nth_kind(all, "validateRequest", 1), "path")),
	    "/intune/svc2/ScepActions/validateRequest") == 0,
	    "old URI refuses connections: rediscovered, validateRequest sent "
	    "again (nothing had been sent)");
	json_decref(all);

	/* 404 from the service: validateRequest not resent, next call
	 * rediscovers. */
	su_ctl0("config", "{\"service_prefix\": \"/intune/svc1\", "
	    "\"live_prefixes\": [\"/intune/svc1\"]}");
	intune_client_stats(c, &s0);
	r = intune_validate(c, "TXN-404", csr_ok, csr_ok_len, &out);
	intune_client_stats(c, &s1);
	tap_ok(r == SCEP_E_IO && out.http_status == 404 && out.attempts == 1 &&
	    s1.rediscoveries == s0.rediscoveries + 1,
	    "validateRequest 404: cache dropped, not resent");
	r = intune_validate(c, "TXN-404b", csr_ok, csr_ok_len, &out);
	tap_ok(r == SCEP_OK, "next call rediscovers and succeeds");

	/* A dead URI stays dead: one retry after rediscovery, no more. */
	su_reset();
	su_ctl0("config", "{\"service\": \"dead\"}");
	intune_client_flush(c);
	r = intune_validate(c, "TXN-dead", csr_ok, csr_ok_len, &out);
	all = su_calls();
	tap_ok(r == SCEP_E_IO && out.attempts == 2 && out.http_status == 0 &&
	    su_count_kind(all, "discovery") == 2,
	    "connection refused twice: two attempts, then failure");
	json_decref(all);

	/* DNS failure (spec 10.2 case 3). */
	su_reset();
	su_ctl0("config", "{\"service\": \"https://nonexistent.invalid/x\"}");
	intune_client_flush(c);
	r = intune_validate(c, "TXN-dns", csr_ok, csr_ok_len, &out);
	tap_ok(r == SCEP_E_IO && out.http_status == 0 && out.attempts == 2,
	    "DNS failure: failed after one rediscovery (%s)", out.message);

	/* TTL. */
	su_reset();
	cfg.discovery_ttl = 2;
	c2 = client(&cfg);
	(void)intune_validate(c2, "TXN-ttl1", csr_ok, csr_ok_len, &out);
	(void)intune_validate(c2, "TXN-ttl2", csr_ok, csr_ok_len, &out);
	sleep(3);
	r = intune_validate(c2, "TXN-ttl3", csr_ok, csr_ok_len, &out);
	all = su_calls();
	tap_ok(r == SCEP_OK && su_count_kind(all, "discovery") == 2,
	    "discovery cached for its TTL, then repeated (%zu)",
	    su_count_kind(all, "discovery"));
	json_decref(all);
	intune_client_free(c2);
	intune_client_flush(c);
}

static void
test_notifications(struct intune_client *c)
{
	struct intune_cert_info ci;
	struct intune_call out;
	X509 *x = su_make_cert();
	unsigned char md[20];
	unsigned int mdlen = 0;
	char hex[41], desc[400], *want = NULL;
	json_t *all = NULL, *n = NULL;
	const char *d = NULL;
	size_t i;
	int r;

	tap_ok(intune_cert_info(x, &ci) == SCEP_OK, "intune_cert_info");
	X509_digest(x, EVP_sha1(), md, &mdlen);
	for (i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02X", md[i]);
	tap_ok(strcmp(ci.thumbprint, hex) == 0, "thumbprint: SHA-1, 40 "
	    "upper-case hex");
	tap_ok(strcmp(ci.serial, "008001020304") == 0,
	    "serial: DER content bytes, leading 00 kept (%s)", ci.serial);
	tap_ok(strcmp(ci.expiry, "2030-06-11T16:11:20.000Z") == 0,
	    "expiry: YYYY-MM-DDThh:mm:ss.fffZ (%s)", ci.expiry);
	tap_ok(strcmp(ci.issuer, "CN=Example Issuing CA,O=Example") == 0,
	    "issuer: RFC 4514 (%s)", ci.issuer);
	snprintf(ci.ca_configuration, sizeof(ci.ca_configuration),
	    "example-ca-01");

	su_reset();
	intune_client_flush(c);
	r = intune_notify_success(c, "TXN-note", csr_ok, csr_ok_len, &ci,
	    &out);
	all = su_calls();
	n = su_nth_kind(all, "successNotification", 0);
	tap_ok(r == SCEP_OK && out.attempts == 1 && n != NULL,
	    "successNotification: Success");
	tap_ok(su_count_violations(all) == 0, "no violations");
	tap_ok(n != NULL && json_object_size(json_object_get(json_object_get(
	    n, "json"), "notification")) == 9 &&
	    strcmp(su_field(n, "notification", "transactionId"),
	    "TXN-note") == 0 &&
	    strcmp(su_field(n, "notification", "certificateThumbprint"),
	    ci.thumbprint) == 0 &&
	    strcmp(su_field(n, "notification", "certificateSerialNumber"),
	    "008001020304") == 0 &&
	    strcmp(su_field(n, "notification", "certificateExpirationDateUtc"),
	    "2030-06-11T16:11:20.000Z") == 0 &&
	    strcmp(su_field(n, "notification", "issuingCertificateAuthority"),
	    "CN=Example Issuing CA,O=Example") == 0 &&
	    strcmp(su_field(n, "notification", "caConfiguration"),
	    "example-ca-01") == 0 &&
	    strcmp(su_field(n, "notification", "certificateAuthority"),
	    "CN=Example Issuing CA,O=Example") == 0 &&
	    strcmp(su_field(n, "notification", "callerInfo"), CALLER) == 0,
	    "successNotification body: the nine fields of spec 6.2, exactly");
	json_decref(all);

	/* Retries of notifications (spec 6.5). */
	su_ctl0("config", "{\"script\": {\"successNotification\": "
	    "[\"HTTP-500\"]}}");
	r = intune_notify_success(c, "TXN-n500", csr_ok, csr_ok_len, &ci, &out);
	tap_ok(r == SCEP_OK && out.attempts == 2 &&
	    strcmp(out.request_ids[0], out.request_ids[1]) != 0,
	    "successNotification 500 once: retried with a new "
	    "client-request-id");
	su_ctl0("config", "{\"script\": {\"successNotification\": "
	    "[\"HTTP-503\", \"HTTP-503\", \"OK\"]}}");
	r = intune_notify_success(c, "TXN-n503", csr_ok, csr_ok_len, &ci, &out);
	tap_ok(r == SCEP_E_IO && out.attempts == 2,
	    "successNotification 503 twice: one retry only");
	su_ctl0("config", "{\"script\": {\"successNotification\": []}}");
	su_ctl0("config", "{\"script\": {\"successNotification\": "
	    "[\"HTTP-429\"]}}");
	r = intune_notify_success(c, "TXN-n429", csr_ok, csr_ok_len, &ci, &out);
	tap_ok(r == SCEP_OK && out.attempts == 2, "429: retried");
	su_ctl0("config", "{\"script\": {\"successNotification\": "
	    "[\"DROP\"]}}");
	r = intune_notify_success(c, "TXN-ndrop", csr_ok, csr_ok_len, &ci,
	    &out);
	tap_ok(r == SCEP_OK && out.attempts == 2,
	    "reset after sending: notification retried (rc %d attempts %d: "
	    "%s)", r, out.attempts, out.message);
	su_ctl0("config", "{\"script\": {\"successNotification\": "
	    "[\"SLOW-6000\"]}}");
	r = intune_notify_success(c, "TXN-nslow", csr_ok, csr_ok_len, &ci,
	    &out);
	tap_ok(r == SCEP_E_IO && out.attempts == 1,
	    "timeout: not retried (its budget is spent)");
	su_ctl0("config", "{\"script\": {\"successNotification\": "
	    "[\"ERR-Unknown\"]}}");
	r = intune_notify_success(c, "TXN-nerr", csr_ok, csr_ok_len, &ci,
	    &out);
	tap_ok(r == SCEP_E_DENIED && out.attempts == 1,
	    "successNotification answered non-Success: rejected");
	/* Steered by the challenge, as in end-to-end runs. */
	{
		uint8_t *der = NULL;
		size_t len = 0;

		su_make_csr("STANDIN-OK/SN:ERR-Unknown/n9", &der, &len);
		r = intune_validate(c, "TXN-sn", der, len, &out);
		tap_ok(r == SCEP_OK,
		    "challenge STANDIN-OK/SN:...: validate ok");
		r = intune_notify_success(c, "TXN-sn", der, len, &ci, &out);
		tap_ok(r == SCEP_E_DENIED && strcmp(out.code, "Unknown") == 0,
		    "... and the success notification fails");
		OPENSSL_free(der);
	}
	/* 404 on a notification: rediscovered and resent. */
	su_ctl0("config", "{\"service_prefix\": \"/intune/svc2\", "
	    "\"live_prefixes\": [\"/intune/svc2\"]}");
	r = intune_notify_success(c, "TXN-n404", csr_ok, csr_ok_len, &ci,
	    &out);
	tap_ok(r == SCEP_OK && out.attempts == 2,
	    "notification 404: rediscovered and resent");
	su_ctl0("config", "{\"service_prefix\": \"/intune/svc1\", "
	    "\"live_prefixes\": [\"/intune/svc1\", \"/intune/svc2\"]}");
	intune_client_flush(c);

	/* failureNotification (spec 6.2, 6.3). */
	su_reset();
	memset(desc, 'a', 250);
	memcpy(desc + 250, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "tail", 16);
	desc[266] = '\0';
	r = intune_notify_failure(c, "TXN-fail", csr_ok, csr_ok_len,
	    INTUNE_HR_UNAVAILABLE, desc, &out);
	all = su_calls();
	n = su_nth_kind(all, "failureNotification", 0);
	d = su_field(n, "notification", "errorDescription");
	want = malloc(300);
	memset(want, 'a', 250);
	memcpy(want + 250, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 10);
	want[260] = '\0';
	tap_ok(r == SCEP_OK && n != NULL && json_integer_value(json_object_get(
	    json_object_get(json_object_get(n, "json"), "notification"),
	    "hResult")) == 0x20000002 && json_is_integer(json_object_get(
	    json_object_get(json_object_get(n, "json"), "notification"),
	    "hResult")), "failureNotification: hResult 0x20000002 as a JSON "
	    "integer");
	tap_ok(d != NULL && strcmp(d, want) == 0,
	    "errorDescription cut to 255 characters on a UTF-8 boundary");
	tap_ok(su_count_violations(all) == 0 &&
	    json_object_size(json_object_get(
	    json_object_get(n, "json"), "notification")) == 5,
	    "failureNotification: the five fields, no violations");
	json_decref(all);
	free(want);
	su_reset();
	r = intune_notify_failure(c, "TXN-fail2", csr_ok, csr_ok_len,
	    INTUNE_HR_FAILINFO + 2, "bad \xff\xfe bytes", &out);
	all = su_calls();
	d = su_field(su_nth_kind(all, "failureNotification", 0), "notification",
	    "errorDescription");
	tap_ok(r == SCEP_OK && d != NULL && strcmp(d, "bad ?? bytes") == 0,
	    "invalid UTF-8 replaced");
	json_decref(all);
	su_reset();
	r = intune_notify_failure(c, "TXN-fail3", csr_ok, csr_ok_len,
	    INTUNE_HR_INTERNAL, "", &out);
	all = su_calls();
	d = su_field(su_nth_kind(all, "failureNotification", 0), "notification",
	    "errorDescription");
	tap_ok(r == SCEP_OK && d != NULL && d[0] != '\0',
	    "empty description replaced (the field must be non-empty)");
	json_decref(all);
	X509_free(x);
}

static void
test_connection(const struct intune_account_cfg *bcfg)
{
	struct intune_account_cfg cfg = *bcfg;
	struct intune_test_report rep;
	struct intune_client *c = NULL;
	char pki[256];
	int r;

	su_reset();
	c = client(&cfg);
	r = intune_test_connection(c, &rep);
	snprintf(pki, sizeof(pki), "https://127.0.0.1:%d/intune/pki", su_port);
	tap_ok(r == SCEP_OK && rep.graph_token.rc == SCEP_OK &&
	    rep.discovery.rc == SCEP_OK && rep.intune_token.rc == SCEP_OK &&
	    strstr(rep.validation_uri, "/intune/svc1") != NULL &&
	    strcmp(rep.revocation_uri, pki) == 0,
	    "Test connection: all steps pass (%s)", rep.summary);
	intune_client_free(c);

	cfg.client_secret = "not-the-secret";
	c = client(&cfg);
	r = intune_test_connection(c, &rep);
	tap_ok(r == SCEP_E_CONFIG && rep.graph_token.rc == SCEP_E_CONFIG &&
	    rep.discovery.rc != SCEP_OK && rep.intune_token.rc != SCEP_OK &&
	    strstr(rep.summary, "AADSTS7000215") != NULL &&
	    strstr(rep.summary, "not-the-secret") == NULL,
	    "Test connection with a wrong secret: %s", rep.summary);
	intune_client_free(c);

	cfg = *bcfg;
	su_reset();
	su_ctl0("config", "{\"discovery\": \"missing\"}");
	c = client(&cfg);
	r = intune_test_connection(c, &rep);
	tap_ok(r == SCEP_E_CONFIG && rep.graph_token.rc == SCEP_OK &&
	    rep.discovery.rc == SCEP_E_CONFIG && rep.intune_token.rc == SCEP_OK
	    && strstr(rep.summary, "ScepRequestValidationFEService") != NULL,
	    "Test connection, service not listed: %s", rep.summary);
	intune_client_free(c);
}

static void
test_proxy(const struct intune_account_cfg *bcfg)
{
	struct intune_account_cfg cfg = *bcfg;
	struct intune_client *c = NULL;
	struct intune_call out;
	char proxy[64];
	json_t *all = NULL, *e = NULL;
	size_t i, connects = 0, direct = 0, authorized = 0;
	int r;

	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", su_proxy_port);
	cfg.proxy = proxy;
	su_reset();
	c = client(&cfg);
	r = intune_validate(c, "TXN-proxy", csr_ok, csr_ok_len, &out);
	all = su_calls();
	json_array_foreach(all, i, e) {
		const char *k = json_string_value(json_object_get(e, "kind"));

		if (strcmp(k, "connect") == 0)
			connects++;
		else if (su_header(e, "Via") == NULL)
			direct++;
	}
	tap_ok(r == SCEP_OK && connects >= 1 && su_count_kind(all,
	    "validateRequest") == 1,
	    "through an HTTP CONNECT proxy (%zu tunnels)", connects);
	json_decref(all);
	intune_client_free(c);

	/* With Basic authentication. */
	su_reset();
	su_ctl0("config", "{\"proxy_auth\": \"puser:" PROXY_PASS "\"}");
	c = client(&cfg);
	r = intune_validate(c, "TXN-proxy-noauth", csr_ok, csr_ok_len, &out);
	tap_ok(r == SCEP_E_IO, "proxy demanding auth, none configured: "
	    "failed (%s)", out.message);
	intune_client_free(c);
	cfg.proxy_user = "puser";
	cfg.proxy_password = PROXY_PASS;
	c = client(&cfg);
	r = intune_validate(c, "TXN-proxy-auth", csr_ok, csr_ok_len, &out);
	all = su_calls();
	json_array_foreach(all, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "kind")),
		    "connect") == 0 && json_is_true(json_object_get(e,
		    "authorized")))
			authorized++;
	}
	tap_ok(r == SCEP_OK && authorized >= 1,
	    "proxy with Basic authentication (%zu authorized tunnels)",
	    authorized);
	json_decref(all);
	intune_client_free(c);
	(void)direct;
}

/* spec 9 and 10.2 case 16 (client side). */
static void
test_revocation(struct intune_client *c, const struct intune_account_cfg *bcfg)
{
	struct intune_account_cfg cfg = *bcfg;
	struct intune_revocation_request *rv = NULL;
	struct intune_revocation_result res[3];
	struct intune_client *c2 = NULL;
	struct intune_call out;
	json_t *all = NULL, *d = NULL, *u = NULL, *item = NULL;
	size_t n = 0;
	int r;

	su_reset();
	su_ctl0("config", "{\"revocations\": ["
	    "{\"requestContext\": \"ctx-1\", \"serialNumber\": "
	    "\"6A00000123ABCD\", \"issuerName\": \"CN=Example Issuing CA,"
	    "O=Example\", \"caConfiguration\": \"example-ca-01\"},"
	    "{\"requestContext\": \"ctx-2\", \"serialNumber\": \"0080\", "
	    "\"issuerName\": \"CN=Other\", \"caConfiguration\": null},"
	    "{\"requestContext\": \"ctx-3\", \"serialNumber\": \"zz\", "
	    "\"issuerName\": null, \"caConfiguration\": \"x\"},"
	    "{\"serialNumber\": \"01\"}]}");
	r = intune_revocation_download(c, 100, NULL, &rv, &n, &out);
	tap_ok(r == SCEP_OK && n == 3 && strcmp(rv[0].request_context,
	    "ctx-1") == 0 && strcmp(rv[0].serial, "6A00000123ABCD") == 0 &&
	    strcmp(rv[0].issuer, "CN=Example Issuing CA,O=Example") == 0 &&
	    strcmp(rv[0].ca_configuration, "example-ca-01") == 0 &&
	    rv[1].ca_configuration[0] == '\0' && rv[2].serial[0] == '\0',
	    "downloadRevocationRequests: 3 usable requests, fields parsed, "
	    "a bad serial blanked, one without requestContext skipped (%s)",
	    out.message);
	free(rv);
	rv = NULL;
	all = su_calls();
	d = su_nth_kind(all, "downloadRevocationRequests", 0);
	tap_ok(d != NULL && strcmp(su_header(d, "api-version"), "5019-05-05")
	    == 0 && json_integer_value(json_object_get(json_object_get(
	    json_object_get(d, "json"), "downloadParameters"), "maxRequests"))
	    == 100 && json_is_null(json_object_get(json_object_get(
	    json_object_get(d, "json"), "downloadParameters"), "issuerName")) &&
	    strcmp(json_string_value(json_object_get(d, "path")),
	    "/intune/pki/CertificateAuthorityRequests/"
	    "downloadRevocationRequests") == 0 && su_count_violations(all) == 0,
	    "download: PkiConnectorFEService URL, api-version 5019-05-05, "
	    "maxRequests, issuerName null");
	json_decref(all);
	r = intune_revocation_download(c, 10, "CN=Other", &rv, &n, &out);
	tap_ok(r == SCEP_OK && n == 1 && strcmp(rv[0].request_context,
	    "ctx-2") == 0, "download filtered by issuer");
	free(rv);
	rv = NULL;
	tap_ok(intune_revocation_download(c, 0, NULL, &rv, &n, &out) ==
	    SCEP_E_INTERNAL && intune_revocation_download(c, 501, NULL, &rv,
	    &n, &out) == SCEP_E_INTERNAL, "maxRequests outside 1-500 refused");

	memset(res, 0, sizeof(res));
	res[0].request_context = "ctx-1";
	res[0].succeeded = 1;
	res[1].request_context = "ctx-2";
	res[1].error_code = INTUNE_CAERR_NOTFOUND;
	res[1].error_message = "serial not found";
	res[2].request_context = "ctx-3";
	res[2].error_code = INTUNE_CAERR_PARAMETER;
	res[2].error_message = "bad serial";
	su_reset();
	su_ctl0("config", "{\"revocations\": [{\"requestContext\": "
	    "\"ctx-1\"}, {\"requestContext\": \"ctx-2\"}, "
	    "{\"requestContext\": \"ctx-3\"}]}");
	r = intune_revocation_upload(c, res, 3, &out);
	all = su_calls();
	u = su_nth_kind(all, "uploadRevocationResults", 0);
	item = json_array_get(json_object_get(json_object_get(u, "json"),
	    "results"), 1);
	tap_ok(r == SCEP_OK && su_count_violations(all) == 0 &&
	    json_is_integer(json_object_get(item, "errorCode")) &&
	    json_integer_value(json_object_get(item, "errorCode")) == 4004 &&
	    json_is_false(json_object_get(item, "succeeded")),
	    "uploadRevocationResults: one result per request, errorCode a "
	    "JSON number (C# form)");
	json_decref(all);
	res[0].error_code = 4004;
	tap_ok(intune_revocation_upload(c, res, 3, &out) == SCEP_E_INTERNAL,
	    "succeeded with a non-zero errorCode refused before sending");
	res[0].error_code = 0;

	su_ctl0("config", "{\"script\": {\"uploadRevocationResults\": "
	    "[\"HTTP-503\"]}}");
	r = intune_revocation_upload(c, res, 3, &out);
	tap_ok(r == SCEP_OK && out.attempts == 2, "upload 503 once: retried");
	su_ctl0("config", "{\"script\": {\"uploadRevocationResults\": "
	    "[\"GARBAGE\"]}}");
	r = intune_revocation_upload(c, res, 3, &out);
	tap_ok(r == SCEP_E_MALFORMED, "upload answered with garbage: "
	    "malformed");

	/* errorCode as a string (Java form), configurable. */
	su_ctl0("config", "{\"code_as_string\": true}");
	cfg.revocation_code_as_string = 1;
	c2 = client(&cfg);
	su_ctl0("config", "{\"script\": {}}");
	r = c2 != NULL ? intune_revocation_upload(c2, res, 3, &out) : -1;
	all = su_calls();
	u = su_nth_kind(all, "uploadRevocationResults",
	    su_count_kind(all, "uploadRevocationResults") - 1);
	item = json_array_get(json_object_get(json_object_get(u, "json"),
	    "results"), 1);
	tap_ok(r == SCEP_OK && json_is_string(json_object_get(item,
	    "errorCode")) && strcmp(json_string_value(json_object_get(item,
	    "errorCode")), "4004") == 0, "errorCode as \"4004\" when "
	    "configured (rc %d %s)", r, out.message);
	json_decref(all);
	intune_client_free(c2);
}

static void
test_json(void)
{
	struct intune_call c;
	char buf[2048];
	json_t *j = NULL;

	memset(&c, 0, sizeof(c));
	c.action = "validateRequest";
	c.rc = SCEP_E_DENIED;
	c.stage = INTUNE_STAGE_REJECTED;
	c.http_status = 200;
	snprintf(c.code, sizeof(c.code), "ChallengeExpired");
	snprintf(c.message, sizeof(c.message), "expired");
	c.attempts = 1;
	snprintf(c.request_ids[0], sizeof(c.request_ids[0]),
	    "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
	c.elapsed_ms = 12;
	tap_ok(intune_call_json(&c, buf, sizeof(buf)) > 0 &&
	    (j = json_loads(buf, 0, NULL)) != NULL &&
	    strcmp(json_string_value(json_object_get(j, "code")),
	    "ChallengeExpired") == 0 &&
	    json_integer_value(json_object_get(j, "http_status")) == 200 &&
	    strcmp(json_string_value(json_array_get(json_object_get(j,
	    "client_request_ids"), 0)), c.request_ids[0]) == 0 &&
	    strcmp(json_string_value(json_object_get(j, "stage")),
	    "rejected") == 0, "outcome as JSON for the audit record: %s", buf);
	json_decref(j);
	tap_ok(intune_call_json(&c, buf, 20) == -1 && strcmp(buf, "{}") == 0,
	    "too small a buffer: {} and -1");
}

/* Our log must hold no secret (spec 10.2 case 14), and no call but the
 * token requests carried the client secret. */
static void
test_secrets(void)
{
	char *log = NULL;
	struct stat st;
	json_t *all = NULL, *e = NULL;
	size_t i, leaks = 0;
	int fd;

	fflush(stderr);
	if ((fd = open(su_logpath, O_RDONLY)) >= 0 && fstat(fd, &st) == 0 &&
	    (log = calloc(1, (size_t)st.st_size + 1)) != NULL)
		(void)!read(fd, log, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	tap_ok(log != NULL && strlen(log) > 1000 &&
	    strstr(log, "Intune call") != NULL, "our log was captured "
	    "(%zu bytes)", log ? strlen(log) : 0);
	tap_ok(log != NULL && strstr(log, SECRET) == NULL &&
	    strstr(log, "rotated-secret") == NULL &&
	    strstr(log, "wrong-secret") == NULL &&
	    strstr(log, PROXY_PASS) == NULL && strstr(log, "standin.ey") ==
	    NULL, "no secret, proxy password or token in our log");
	free(log);

	su_reset();
	{
		struct intune_account_cfg cfg;
		struct intune_client *c = NULL;
		struct intune_call out;

		base_cfg(&cfg);
		c = client(&cfg);
		(void)intune_validate(c, "TXN-sec", csr_ok, csr_ok_len, &out);
		intune_client_free(c);
	}
	all = su_calls();
	json_array_foreach(all, i, e) {
		char *s = json_dumps(e, 0);

		if (strcmp(json_string_value(json_object_get(e, "kind")),
		    "token") != 0 && s != NULL && strstr(s, SECRET) != NULL)
			leaks++;
		free(s);
	}
	tap_ok(json_array_size(all) == 4 && leaks == 0,
	    "the secret went to the token endpoint only");
	json_decref(all);
}

int
main(int argc, char **argv)
{
	struct intune_account_cfg cfg;
	struct intune_client *c = NULL;
	EVP_PKEY_CTX *kc = NULL;
	int logfd, saved;

	if (argc != 3) {
		fprintf(stderr, "usage: test_intune python3 standin.py\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    su_start(argv[1], argv[2], SECRET) != 0) {
		printf("not ok 1 - stand-in did not start\n1..1\n");
		su_stop();
		return 1;
	}
	/* Capture our own log from here on. */
	snprintf(su_logpath, sizeof(su_logpath), "%s/ours.log", su_dir);
	saved = dup(STDERR_FILENO);
	logfd = open(su_logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(logfd, STDERR_FILENO);
	close(logfd);

	if ((kc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_keygen_init(kc) <= 0 ||
	    EVP_PKEY_CTX_set_group_name(kc, "P-256") <= 0 ||
	    EVP_PKEY_keygen(kc, &su_key) <= 0 ||
	    su_make_csr("STANDIN-OK/base", &csr_ok, &csr_ok_len) != 0) {
		printf("not ok 1 - test key\n1..1\n");
		su_stop();
		return 1;
	}
	EVP_PKEY_CTX_free(kc);

	test_config();
	base_cfg(&cfg);
	c = client(&cfg);
	if (c == NULL) {
		tap_ok(0, "client");
		su_stop();
		return tap_done();
	}
	test_happy(c);
	test_tokens(c, &cfg);
	test_validate_outcomes(c);
	test_discovery(c, &cfg);
	test_notifications(c);
	test_connection(&cfg);
	test_proxy(&cfg);
	test_revocation(c, &cfg);
	test_json();
	intune_client_free(c);
	test_secrets();

	/* Show the end of our log to whoever reads the test output. */
	dup2(saved, STDERR_FILENO);
	close(saved);
	su_show_log_tail();
	su_stop();
	su_remove_dir();
	OPENSSL_free(csr_ok);
	EVP_PKEY_free(su_key);
	intune_global_cleanup();
	return tap_done();
}
