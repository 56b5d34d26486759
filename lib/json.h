/*
 * JSON in and out, through jansson.  --json output is exactly one object
 * on one line of stdout; files are read whole and bounded in size.
 */
#ifndef ZDD_JSON_H
#define ZDD_JSON_H

#include <jansson.h>

/* Print obj on stdout as one line and release it; -1 on a write error. */
int	zjson_print(json_t *obj);
/* Parse the file name relative to dirfd; NULL with errno on failure. */
json_t	*zjson_load_at(int dirfd, const char *name);
/* A string member or def. */
const char *zjson_str(json_t *obj, const char *key, const char *def);

#endif
