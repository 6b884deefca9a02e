/* web_files.h -- the console's files, embedded at build time. */
#ifndef WEB_FILES_H
#define WEB_FILES_H

#include <stddef.h>

struct web_file {
	const char		*path;		/* "/index.html" */
	const char		*content_type;
	const unsigned char	*data;
	size_t			 len;
};

extern const struct web_file	web_files[];
extern const unsigned long	web_nfiles;

#endif /* !WEB_FILES_H */
