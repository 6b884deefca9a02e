/*
 * log.h -- one line per event, logfmt (key=value) on stderr.
 *
 * Never log a secret: challenges, tokens, passwords and keys stay out of
 * every call (SECURITY).  The core does not log; its callers do.
 */
#ifndef UTIL_LOG_H
#define UTIL_LOG_H

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void	log_set_level(int level);
void	log_msg(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Log and then drain libcrypto's per-thread error queue (STYLE H2). */
void	log_openssl(int level, const char *what);

#define log_error(...)	log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif /* !UTIL_LOG_H */
