/*
 * scep_http.h -- route handlers for the SCEP binding, the CRL distribution
 * point and the health check.  Their arg is the struct svc *.
 */
#ifndef SCEP_HTTP_H
#define SCEP_HTTP_H

#include "http.h"

#define SCEP_HTTP_PREFIX	"/scep/"
#define SCEP_HTTP_DEFAULT	"/cgi-bin/pkiclient.exe"
#define SCEP_HTTP_CRL_PREFIX	"/crl/"

int	scep_http_handle(void *arg, const struct http_req *, struct http_resp *);
int	scep_http_crl(void *arg, const struct http_req *, struct http_resp *);
int	scep_http_health(void *arg, const struct http_req *, struct http_resp *);
int	scep_http_metrics(void *arg, const struct http_req *,
	    struct http_resp *);

#endif /* !SCEP_HTTP_H */
