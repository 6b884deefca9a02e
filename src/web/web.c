/*
 * web.c -- static console files.  "/" is index.html; anything not found is
 * 404.  Every answer carries the security headers the console relies on:
 * no inline script, no framing, no sniffing, no referrer leaks.
 */
#include <stdlib.h>
#include <string.h>

#include "scep_err.h"
#include "web.h"
#include "web_files.h"

#define WEB_CSP	"default-src 'self'; script-src 'self'; style-src 'self'; " \
		"img-src 'self' data:; connect-src 'self'; object-src 'none'; " \
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

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
		(void)http_resp_header(resp, "Content-Security-Policy",
		    WEB_CSP);
		(void)http_resp_header(resp, "X-Frame-Options", "DENY");
		(void)http_resp_header(resp, "Referrer-Policy", "no-referrer");
		return 0;
	}
	return http_resp_text(resp, 404, "not found\n");
}
