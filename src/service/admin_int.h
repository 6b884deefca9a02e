/*
 * admin_int.h -- helpers shared by the admin*.c files; not for callers.
 */
#ifndef ADMIN_INT_H
#define ADMIN_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "admin.h"

int	admin_sodium_init(void);
void	admin_sha256(const void *, size_t, uint8_t out[STORE_HASH_LEN]);
/* n (<= 64) random bytes as unpadded base64url into out. */
int	admin_random_b64(size_t n, char *out, size_t outsz);
int	admin_password_generate(char *out, size_t outsz);
/* SCEP_E_MALFORMED when the length is outside the password bounds. */
int	admin_password_hash(const char *pw, char out[STORE_PWHASH_MAX]);
/* A new API token into out and its SHA-256 into hash. */
int	admin_token_mint(char *out, size_t outsz,
	    uint8_t hash[STORE_HASH_LEN]);
int64_t	admin_now(void);
int	admin_strlcpy(char *dst, const char *src, size_t dstsz);
void	admin_err_set(struct admin_err *, const char *field, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
/*
 * A display name (organization, department, administrator, endpoint,
 * account, token): 1..STORE_NAME_MAX-1 bytes of valid UTF-8 without
 * control characters, not blank, no leading or trailing space.
 * SCEP_E_MALFORMED with err set (field "field") otherwise.
 */
int	admin_name_check(const char *name, struct admin_err *,
	    const char *field);

/* Does delegation target "t" touch the actor's scope (admin.c)? */
int	admin_scope_touches(const struct admin_actor *,
	    const struct store_orgref *t);
/* Delegation targets [{"org_id", "dept_id"}] in JSON (admin_json.c). */
int	admin_refs_decode(json_t *v, const char *field,
	    struct store_orgref *refs, size_t max, size_t *n,
	    struct admin_err *);
json_t	*admin_refs_encode(const struct store_orgref *refs, size_t n);

/* Load an endpoint (with targets) regardless of scope. */
int	admin_endpoint_load(struct store *, int64_t id,
	    struct admin_endpoint *);

#endif /* !ADMIN_INT_H */
