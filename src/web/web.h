/*
 * web.h -- serves the web console's static files (web/), embedded in the
 * binary, with a strict Content-Security-Policy.  The console talks only to
 * the REST API.
 */
#ifndef WEB_H
#define WEB_H

#include "http.h"

struct web;

int	web_new(struct web **out);
void	web_free(struct web *);		/* accepts NULL */
int	web_handle(void *arg, const struct http_req *, struct http_resp *);

#endif /* !WEB_H */
