/*
 * scepbench.c -- SCEP load generator (issue 7): options, the three
 * phases (bench.h), and the report.
 *
 *   scepbench --url URL --challenge C --ca CA.pem [--concurrency N]
 *       [--duration S | --count N] [--op enroll|getcacaps|getcacert]
 *       [--cipher aes128|aes256|des3] [--digest sha1|sha256|sha512]
 *       [--key-bits 2048] [--keys N] [--prebuild N] [--server-pid PID]
 *       [--key-cache FILE] [--timeout S] [--threads N] [--json]
 *       [--verbose]
 *
 * Exit status: 0 when every request was answered and verified with no
 * duplicate serial, 1 when some failed, 2 on a usage or setup error.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/obj_mac.h>

#include "bench.h"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: scepbench --url URL [--challenge C --ca CA.pem] [options]\n"
"  --url URL            the SCEP URL (the query string is added)\n"
"  --challenge C        challengePassword put in every PKCS#10\n"
"  --ca FILE            PEM certificate(s) the issued certificates must\n"
"                       chain to (the RA from GetCACert must, too)\n"
"  --op OP              enroll (default), getcacaps or getcacert\n"
"  --concurrency N      parallel connections, keep-alive (default 1)\n"
"  --duration S         run for S seconds, or\n"
"  --count N            send N requests (default 100)\n"
"  --cipher C           aes128 (default), aes256 or des3\n"
"  --digest D           sha256 (default), sha512 or sha1\n"
"  --key-bits B         RSA key size of the clients (default 2048)\n"
"  --keys N             key pool size (default min(requests, 64))\n"
"  --key-cache FILE     take pool keys from FILE (PEM), store new ones\n"
"                       there: key generation is the slow part\n"
"  --prebuild N         requests prepared for a --duration run\n"
"                       (default 3000 per second of duration)\n"
"  --server-pid PID     report the server's CPU time per operation\n"
"                       (PID and every process below it)\n"
"  --timeout S          per request (default 30)\n"
"  --threads N          threads for preparing and verifying (default:\n"
"                       online CPUs)\n"
"  --json               one JSON object on stdout instead of text\n"
"  --verbose            every failed request on stderr (transactionID,\n"
"                       pool key, reason)\n");
}

/* Strict number parsing (no atoi): the whole string, within bounds. */
static int
num(const char *s, double min, double max, double *out)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || isnan(v) || v < min ||
	    v > max)
		return -1;
	*out = v;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n-1]. */
static double
pct(const double *v, long n, double p)
{
	long k;

	if (n == 0)
		return 0;
	k = (long)ceil(p * (double)n) - 1;
	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return v[k];
}

struct summary {
	double	 p50, p90, p99, max, mean;
	double	 rate;		/* verified operations per second */
	double	 cpu_per_op;	/* server CPU ms per verified op, or -1 */
	double	 cores;		/* server CPU seconds per second, or -1 */
	long	 failures;
};

static int
summarize(struct bench *b, struct summary *s)
{
	double *lat = NULL, sum = 0;
	long i, n = 0;
	int f;

	memset(s, 0, sizeof(*s));
	if (b->op == BENCH_OP_ENROLL) {
		if (b->done > 0 && (lat = malloc((size_t)b->done *
		    sizeof(*lat))) == NULL)
			return SCEP_E_NOMEM;
		for (i = 0; i < b->nreqs && n < b->done; i++)
			if (b->reqs[i].sent)
				lat[n++] = b->reqs[i].latency;
	} else {
		lat = b->lat;
		b->lat = NULL;
		n = b->nlat;
	}
	if (n > 0)
		qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	for (i = 0; i < n; i++)
		sum += lat[i];
	s->p50 = pct(lat, n, 0.50) * 1e3;
	s->p90 = pct(lat, n, 0.90) * 1e3;
	s->p99 = pct(lat, n, 0.99) * 1e3;
	s->max = n > 0 ? lat[n - 1] * 1e3 : 0;
	s->mean = n > 0 ? sum / (double)n * 1e3 : 0;
	free(lat);
	for (f = 1; f < BF__MAX; f++)
		s->failures += b->fails[f];
	s->rate = b->elapsed > 0 ? (double)b->ok / b->elapsed : 0;
	s->cpu_per_op = b->server_cpu >= 0 && b->ok > 0 ?
	    b->server_cpu / (double)b->ok * 1e3 : -1;
	s->cores = b->server_cpu >= 0 && b->elapsed > 0 ?
	    b->server_cpu / b->elapsed : -1;
	return SCEP_OK;
}

static const char *
op_name(enum bench_op op)
{
	switch (op) {
	case BENCH_OP_ENROLL:		return "enroll";
	case BENCH_OP_GETCACAPS:	return "getcacaps";
	default:			return "getcacert";
	}
}

static const char *
cipher_name(int nid)
{
	switch (nid) {
	case NID_aes_128_cbc:		return "aes128";
	case NID_aes_192_cbc:		return "aes192";
	case NID_aes_256_cbc:		return "aes256";
	case NID_des_ede3_cbc:		return "des3";
	case NID_des_cbc:		return "des";
	case NID_undef:			return "none";
	default:			return "other";
	}
}

static const char *
digest_name(int nid)
{
	switch (nid) {
	case NID_sha1:			return "sha1";
	case NID_sha512:		return "sha512";
	default:			return "sha256";
	}
}

static void
report_text(struct bench *b, const struct summary *s)
{
	const char *unit = b->op == BENCH_OP_ENROLL ? "enrollments" :
	    "requests";
	int f;

	printf("scepbench: %s %s, concurrency %d, %s\n", op_name(b->op),
	    b->url, b->concurrency, b->duration > 0 ? "timed" : "counted");
	if (b->op == BENCH_OP_ENROLL) {
		printf("  prepare: %d RSA-%d keys (%d from the key cache) in "
		    "%.2f s: a pool, each key serves several requests, each "
		    "request with its own transactionID and senderNonce\n",
		    b->nkeys, b->key_bits, b->keys_loaded, b->prep_keys_s);
		printf("  prepare: %ld requests signed and enveloped (%s, %s) "
		    "in %.2f s on %d threads\n", b->nreqs,
		    cipher_name(b->cipher_nid), digest_name(b->md_nid),
		    b->prep_reqs_s, b->threads);
	}
	printf("  run: %ld requests in %.2f s%s\n", b->done, b->elapsed,
	    b->exhausted ? " (stopped early: prepared requests ran out; "
	    "raise --prebuild)" : "");
	printf("  verified: %ld ok, %ld failed, %ld duplicate serials\n",
	    b->ok, s->failures, b->duplicates);
	if (b->op == BENCH_OP_ENROLL)
		printf("  replies encrypted with %s%s\n",
		    cipher_name(atomic_load(&b->reply_cipher)),
		    atomic_load(&b->reply_cipher_mixed) ? " (and others)" : "");
	printf("  throughput: %.1f %s/s\n", s->rate, unit);
	printf("  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  "
	    "mean %.2f\n", s->p50, s->p90, s->p99, s->max, s->mean);
	if (s->cpu_per_op >= 0)
		printf("  server: pid %ld + children, %.2f CPU s = %.2f cores, %.3f ms "
		    "CPU per %s\n", b->server_pid, b->server_cpu, s->cores,
		    s->cpu_per_op, b->op == BENCH_OP_ENROLL ? "enrollment" :
		    "request");
	printf("  client: %.2f CPU s during the run\n", b->client_cpu);
	for (f = 1; f < BF__MAX; f++)
		if (b->fails[f] > 0)
			printf("  failure %s: %ld (first: %s)\n",
			    bench_fail_name(f), b->fails[f],
			    b->fail_example[f][0] ? b->fail_example[f] : "-");
}

static int
report_json(struct bench *b, const struct summary *s)
{
	json_t *o = NULL, *fails = NULL, *ex = NULL;
	char *txt = NULL;
	int f, rc = SCEP_E_NOMEM;

	if ((o = json_object()) == NULL || (fails = json_object()) == NULL ||
	    (ex = json_object()) == NULL)
		goto out;
	for (f = 1; f < BF__MAX; f++) {
		if (b->fails[f] == 0)
			continue;
		if (json_object_set_new(fails, bench_fail_name(f),
		    json_integer(b->fails[f])) != 0 ||
		    json_object_set_new(ex, bench_fail_name(f),
		    json_string(b->fail_example[f])) != 0)
			goto out;
	}
	if (json_object_set_new(o, "op", json_string(op_name(b->op))) ||
	    json_object_set_new(o, "url", json_string(b->url)) ||
	    json_object_set_new(o, "concurrency",
	    json_integer(b->concurrency)) ||
	    json_object_set_new(o, "requests", json_integer(b->done)) ||
	    json_object_set_new(o, "ok", json_integer(b->ok)) ||
	    json_object_set_new(o, "failures", json_integer(s->failures)) ||
	    json_object_set_new(o, "duplicates",
	    json_integer(b->duplicates)) ||
	    json_object_set_new(o, "elapsed_s", json_real(b->elapsed)) ||
	    json_object_set_new(o, "throughput", json_real(s->rate)) ||
	    json_object_set_new(o, "p50_ms", json_real(s->p50)) ||
	    json_object_set_new(o, "p90_ms", json_real(s->p90)) ||
	    json_object_set_new(o, "p99_ms", json_real(s->p99)) ||
	    json_object_set_new(o, "max_ms", json_real(s->max)) ||
	    json_object_set_new(o, "mean_ms", json_real(s->mean)) ||
	    json_object_set_new(o, "server_cpu_s", s->cpu_per_op >= 0 ?
	    json_real(b->server_cpu) : json_null()) ||
	    json_object_set_new(o, "server_cores", s->cpu_per_op >= 0 ?
	    json_real(s->cores) : json_null()) ||
	    json_object_set_new(o, "server_cpu_ms_per_op", s->cpu_per_op >= 0 ?
	    json_real(s->cpu_per_op) : json_null()) ||
	    json_object_set_new(o, "client_cpu_s", json_real(b->client_cpu)) ||
	    json_object_set_new(o, "exhausted", json_boolean(b->exhausted)) ||
	    json_object_set_new(o, "failure_kinds", fails) ||
	    json_object_set_new(o, "failure_examples", ex))
		goto out;
	fails = ex = NULL;	/* owned by o now */
	if (b->op == BENCH_OP_ENROLL &&
	    (json_object_set_new(o, "keys", json_integer(b->nkeys)) ||
	    json_object_set_new(o, "key_mode", json_string("pool")) ||
	    json_object_set_new(o, "keys_from_cache",
	    json_integer(b->keys_loaded)) ||
	    json_object_set_new(o, "key_bits", json_integer(b->key_bits)) ||
	    json_object_set_new(o, "prepared", json_integer(b->nreqs)) ||
	    json_object_set_new(o, "prep_keys_s", json_real(b->prep_keys_s)) ||
	    json_object_set_new(o, "prep_requests_s",
	    json_real(b->prep_reqs_s)) ||
	    json_object_set_new(o, "cipher",
	    json_string(cipher_name(b->cipher_nid))) ||
	    json_object_set_new(o, "digest",
	    json_string(digest_name(b->md_nid))) ||
	    json_object_set_new(o, "reply_cipher",
	    json_string(cipher_name(atomic_load(&b->reply_cipher))))))
		goto out;
	if ((txt = json_dumps(o, JSON_COMPACT)) == NULL)
		goto out;
	printf("%s\n", txt);
	rc = SCEP_OK;
 out:
	free(txt);
	json_decref(fails);
	json_decref(ex);
	json_decref(o);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url",	required_argument, NULL, 'u' },
		{ "challenge",	required_argument, NULL, 'c' },
		{ "ca",		required_argument, NULL, 'a' },
		{ "op",		required_argument, NULL, 'o' },
		{ "concurrency", required_argument, NULL, 'n' },
		{ "duration",	required_argument, NULL, 'd' },
		{ "count",	required_argument, NULL, 'N' },
		{ "cipher",	required_argument, NULL, 'C' },
		{ "digest",	required_argument, NULL, 'D' },
		{ "key-bits",	required_argument, NULL, 'b' },
		{ "keys",	required_argument, NULL, 'k' },
		{ "key-cache",	required_argument, NULL, 'K' },
		{ "prebuild",	required_argument, NULL, 'P' },
		{ "server-pid",	required_argument, NULL, 'p' },
		{ "timeout",	required_argument, NULL, 't' },
		{ "threads",	required_argument, NULL, 'T' },
		{ "json",	no_argument,	   NULL, 'j' },
		{ "verbose",	no_argument,	   NULL, 'v' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct bench b;
	struct summary s;
	double v;
	long ncpu;
	int c, keys_set = 0, rc = 2;

	memset(&b, 0, sizeof(b));
	b.op = BENCH_OP_ENROLL;
	b.concurrency = 1;
	b.cipher_nid = NID_aes_128_cbc;
	b.md_nid = NID_sha256;
	b.key_bits = 2048;
	b.nkeys = 64;
	b.timeout = 30;
	b.server_pid = -1;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	b.threads = ncpu > 0 && ncpu <= 64 ? (int)ncpu : 2;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			b.url = optarg;
			break;
		case 'c':
			b.challenge = optarg;
			break;
		case 'a':
			b.ca_path = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "enroll") == 0)
				b.op = BENCH_OP_ENROLL;
			else if (strcmp(optarg, "getcacaps") == 0)
				b.op = BENCH_OP_GETCACAPS;
			else if (strcmp(optarg, "getcacert") == 0)
				b.op = BENCH_OP_GETCACERT;
			else
				goto bad;
			break;
		case 'n':
			if (num(optarg, 1, BENCH_MAX_CONCURRENCY, &v) != 0)
				goto bad;
			b.concurrency = (int)v;
			break;
		case 'd':
			if (num(optarg, 0.1, 86400, &b.duration) != 0)
				goto bad;
			break;
		case 'N':
			if (num(optarg, 1, BENCH_MAX_REQUESTS, &v) != 0)
				goto bad;
			b.count = (long)v;
			break;
		case 'C':
			if (strcmp(optarg, "aes128") == 0)
				b.cipher_nid = NID_aes_128_cbc;
			else if (strcmp(optarg, "aes256") == 0)
				b.cipher_nid = NID_aes_256_cbc;
			else if (strcmp(optarg, "des3") == 0)
				b.cipher_nid = NID_des_ede3_cbc;
			else
				goto bad;
			break;
		case 'D':
			if (strcmp(optarg, "sha256") == 0)
				b.md_nid = NID_sha256;
			else if (strcmp(optarg, "sha512") == 0)
				b.md_nid = NID_sha512;
			else if (strcmp(optarg, "sha1") == 0)
				b.md_nid = NID_sha1;
			else
				goto bad;
			break;
		case 'b':
			if (num(optarg, 1024, 8192, &v) != 0)
				goto bad;
			b.key_bits = (int)v;
			break;
		case 'k':
			if (num(optarg, 1, BENCH_MAX_KEYS, &v) != 0)
				goto bad;
			b.nkeys = (int)v;
			keys_set = 1;
			break;
		case 'K':
			b.key_cache = optarg;
			break;
		case 'P':
			if (num(optarg, 1, BENCH_MAX_REQUESTS, &v) != 0)
				goto bad;
			b.prebuild = (long)v;
			break;
		case 'p':
			if (num(optarg, 1, 4194304, &v) != 0)
				goto bad;
			b.server_pid = (long)v;
			break;
		case 't':
			if (num(optarg, 0.1, 3600, &b.timeout) != 0)
				goto bad;
			break;
		case 'T':
			if (num(optarg, 1, 64, &v) != 0)
				goto bad;
			b.threads = (int)v;
			break;
		case 'j':
			b.json = 1;
			break;
		case 'v':
			b.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc || b.url == NULL || strlen(b.url) > 1900)
		goto bad;
	if (b.duration > 0 && b.count > 0) {
		fprintf(stderr, "scepbench: --duration or --count, not both\n");
		goto bad;
	}
	if (b.duration <= 0 && b.count <= 0)
		b.count = 100;
	if (b.op == BENCH_OP_ENROLL) {
		if (b.challenge == NULL || b.ca_path == NULL) {
			fprintf(stderr, "scepbench: enroll needs --challenge "
			    "and --ca\n");
			goto bad;
		}
		if (b.count > 0)
			b.nreqs = b.count;
		else if (b.prebuild > 0)
			b.nreqs = b.prebuild;
		else
			b.nreqs = (long)fmin(b.duration * 3000,
			    BENCH_MAX_REQUESTS);
		if (!keys_set && b.nkeys > b.nreqs)
			b.nkeys = (int)b.nreqs;
	}

	if (bench_prepare(&b) != SCEP_OK) {
		fprintf(stderr, "scepbench: preparation failed\n");
		goto out;
	}
	if (bench_run(&b) != SCEP_OK) {
		fprintf(stderr, "scepbench: the run failed\n");
		goto out;
	}
	if (bench_verify(&b) != SCEP_OK || summarize(&b, &s) != SCEP_OK) {
		fprintf(stderr, "scepbench: verification failed to run\n");
		goto out;
	}
	if (b.json) {
		if (report_json(&b, &s) != SCEP_OK)
			goto out;
	} else
		report_text(&b, &s);
	rc = s.failures == 0 && b.duplicates == 0 && b.ok > 0 ? 0 : 1;
	goto out;
 bad:
	usage(stderr);
	rc = 2;
 out:
	bench_free(&b);
	return rc;
}
