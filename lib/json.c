/*
 * JSON helpers on top of jansson: one-line output for --json, and bounded
 * reads of the small state files zdd keeps (manifests).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "json.h"

#define ZJSON_MAX (1 << 20)

int
zjson_print(json_t *obj)
{
	char *s;
	int rc = 0;

	s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (s == NULL)
		return -1;
	if (printf("%s\n", s) < 0 || fflush(stdout) == EOF)
		rc = -1;
	free(s);
	return rc;
}

json_t *
zjson_load_at(int dirfd, const char *name)
{
	struct stat st;
	json_error_t jerr;
	json_t *j;
	char *buf;
	size_t len;
	int fd, e;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	/* A read error is an error, never a shorter file. */
	buf = zread_all(fd, ZJSON_MAX, 0, 0, &len);
	e = errno;
	close(fd);
	if (buf == NULL) {
		errno = e == EFBIG ? EINVAL : e;
		return NULL;
	}
	j = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		errno = EINVAL;
		return NULL;
	}
	return j;
}

const char *
zjson_str(json_t *obj, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : def;
}
