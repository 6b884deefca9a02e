/*
 * web.c -- static console files.  "/" is index.html; anything not found is
 * 404.  Every answer carries the security headers the console relies on
 * (issue 4): no inline script or style, no framing, no sniffing, no
 * referrer leaks.  Trusted Types with no policy make the browser refuse
 * any string-to-HTML sink (innerHTML and friends), so the console cannot
 * insert API text as HTML even by mistake.
 */
#include <stdlib.h>
#include <string.h>

#include "scep_err.h"
#include "web.h"
#include "web_files.h"

#define WEB_CSP	"default-src 'none'; script-src 'self'; style-src 'self'; " \
		"img-src 'self' data:; connect-src 'self'; object-src 'none'; " \
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'; " \
		"require-trusted-types-for 'script'; trusted-types 'none'"

struct web {
	int	unused;
};

int
web_new(struct web **out)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return SCEP_E_NOMEM;
	return SCEP_OK;
}

void
web_free(struct web *w)
{
	free(w);
}

/* The security headers of every answer, the 404 included. */
static void
web_headers(struct http_resp *resp)
{
	(void)http_resp_header(resp, "Content-Security-Policy", WEB_CSP);
	(void)http_resp_header(resp, "X-Frame-Options", "DENY");
	(void)http_resp_header(resp, "Referrer-Policy", "no-referrer");
	(void)http_resp_header(resp, "Cross-Origin-Opener-Policy",
	    "same-origin");
	(void)http_resp_header(resp, "Cross-Origin-Resource-Policy",
	    "same-origin");
}

int
web_handle(void *arg, const struct http_req *req, struct http_resp *resp)
{
	const char *path = req->path;
	unsigned long i;

	(void)arg;
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	for (i = 0; i < web_nfiles; i++) {
		if (strcmp(web_files[i].path, path) != 0)
			continue;
		if (http_resp_set(resp, 200, web_files[i].content_type,
		    web_files[i].data, web_files[i].len) != 0)
			return -1;
		/* The HTTP edge already sends Cache-Control: no-store and
		 * nosniff on every answer: an upgraded scepd never runs a
		 * stale console next to a newer API. */
		web_headers(resp);
		return 0;
	}
	if (http_resp_text(resp, 404, "not found\n") != 0)
		return -1;
	web_headers(resp);
	return 0;
}
