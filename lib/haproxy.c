/*
 * The HAProxy runtime API client.  Each command opens its own connection
 * (HAProxy's non-interactive mode closes after one answer), so a stuck
 * HAProxy costs at most the timeout and never a half-read answer.  The
 * answers are parsed by their header lines, split on the separator the
 * format uses, with every field bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "haproxy.h"
#include "io.h"
#include "proc.h"
#include "text.h"

#define ANSWER_MAX	(4 << 20)
#define COLS_MAX	1024

char *
zhap_cmd(const char *path, const char *cmd, double timeout)
{
	struct sockaddr_un sun;
	double deadline = znow() + timeout;
	size_t clen;
	char *buf = NULL, *line = NULL;
	ssize_t n;
	int fd, e;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		goto fail;
	clen = strlen(cmd);
	if ((line = malloc(clen + 2)) == NULL)
		goto fail;
	memcpy(line, cmd, clen);
	line[clen++] = '\n';
	line[clen] = '\0';
	for (size_t off = 0; off < clen; off += (size_t)n) {
		n = send(fd, line + off, clen - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n == -1)
			goto fail;
	}
	if ((buf = zread_all(fd, ANSWER_MAX, deadline, 0, NULL)) == NULL)
		goto fail;
	close(fd);
	free(line);
	return buf;
fail:
	e = errno;
	close(fd);
	free(buf);
	free(line);
	errno = e;
	return NULL;
}

int
zhap_ok(const char *answer)
{
	for (; *answer != '\0'; answer++)
		if (*answer != '\n' && *answer != '\r' && *answer != ' ')
			return 0;
	return 1;
}

/*
 * Split line (modified in place) on sep into at most max fields; a run of
 * spaces counts as one separator when sep is ' '.
 */
static int
split(char *line, char sep, char **f, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		if (sep == ' ')
			while (*p == ' ')
				p++;
		if (*p == '\0' && sep == ' ')
			break;
		if (n == max)
			return -1;
		f[n++] = p;
		while (*p != '\0' && *p != sep)
			p++;
		if (*p == '\0')
			break;
		*p++ = '\0';
	}
	return n;
}

static int
column(char **f, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(f[i], name) == 0)
			return i;
	return -1;
}

/* The next line of *pp, NUL-terminated in place, or NULL at the end. */
static char *
next_line(char **pp)
{
	char *s = *pp, *nl;

	if (s == NULL || *s == '\0')
		return NULL;
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		*pp = nl + 1;
		if (nl > s && nl[-1] == '\r')
			nl[-1] = '\0';
	} else
		*pp = NULL;
	return s;
}

static int
small_int(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 0x7fffffff)
		return -1;
	*out = (int)v;
	return 0;
}

int
zhap_parse_state(const char *text, const char *backend,
    struct zhap_server *v, size_t max)
{
	char *copy, *p, *line, *f[COLS_MAX];
	int nf, cbe = -1, csrv = -1, cop = -1, cadm = -1, caddr = -1,
	    cport = -1;
	int cw = -1;
	int hdr = 0, rc = -1;
	size_t n = 0;

	if ((copy = strdup(text)) == NULL)
		return -1;
	p = copy;
	/* The first line is the format version, which must be 1. */
	line = next_line(&p);
	if (line == NULL || strcmp(line, "1") != 0)
		goto out;
	while ((line = next_line(&p)) != NULL) {
		if (line[0] == '#') {
			nf = split(line + 1, ' ', f, COLS_MAX);
			if (nf < 0)
				goto out;
			cbe = column(f, nf, "be_name");
			csrv = column(f, nf, "srv_name");
			cop = column(f, nf, "srv_op_state");
			cadm = column(f, nf, "srv_admin_state");
			caddr = column(f, nf, "srv_addr");
			cport = column(f, nf, "srv_port");
			cw = column(f, nf, "srv_uweight");
			if (cbe < 0 || csrv < 0 || cop < 0 || cadm < 0)
				goto out;
			hdr = 1;
			continue;
		}
		if (*line == '\0')
			continue;
		if (!hdr)
			goto out;
		nf = split(line, ' ', f, COLS_MAX);
		if (nf <= cbe || nf <= csrv || nf <= cop || nf <= cadm)
			goto out;
		if (strcmp(f[cbe], backend) != 0)
			continue;
		if (n == max || strlen(f[csrv]) >= sizeof v[n].name ||
		    small_int(f[cop], &v[n].op_state) == -1 ||
		    small_int(f[cadm], &v[n].admin_state) == -1)
			goto out;
		strcpy(v[n].name, f[csrv]);
		v[n].addr[0] = '\0';
		if (caddr >= 0 && caddr < nf &&
		    strlen(f[caddr]) < sizeof v[n].addr)
			strcpy(v[n].addr, f[caddr]);
		if (cw < 0 || cw >= nf ||
		    small_int(f[cw], &v[n].weight) == -1 || v[n].weight > 256)
			v[n].weight = -1;
		if (cport < 0 || cport >= nf ||
		    small_int(f[cport], &v[n].port) == -1 || v[n].port > 65535)
			v[n].port = -1;
		n++;
	}
	rc = hdr ? (int)n : -1;
out:
	free(copy);
	if (rc == -1)
		errno = EINVAL;
	return rc;
}

/* host as a binary address of either family; 0, or -1 if it is none. */
static int
numeric(const char *host, unsigned char *bin, int *family)
{
	if (inet_pton(AF_INET, host, bin) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, host, bin) == 1)
		*family = AF_INET6;
	else
		return -1;
	return 0;
}

int
zhap_addr_is(const struct zhap_server *s, const char *hostport)
{
	unsigned char a[16] = { 0 }, b[16] = { 0 };
	char host[64];
	const char *colon = strrchr(hostport, ':');
	size_t hlen;
	int port, fa, fb;

	if (colon == NULL || small_int(colon + 1, &port) == -1)
		return -1;
	hlen = (size_t)(colon - hostport);
	if (hlen >= 2 && hostport[0] == '[' && hostport[hlen - 1] == ']') {
		hostport++;
		hlen -= 2;
	}
	if (hlen >= sizeof host || s->port < 0 || s->addr[0] == '\0')
		return -1;
	memcpy(host, hostport, hlen);
	host[hlen] = '\0';
	if (numeric(host, a, &fa) == -1 || numeric(s->addr, b, &fb) == -1)
		return -1;
	return fa == fb && memcmp(a, b, sizeof a) == 0 && port == s->port;
}

int
zhap_stat_fields(const char *csv, const char *backend, const char *server,
    const char *const *names, int n, long *vals)
{
	char *copy, *p, *line, *f[COLS_MAX];
	int nf, i, cpx = -1, csv_ = -1, col[ZHAP_FIELDS_MAX], v;
	int rc = -1, err = EINVAL;

	if (n > ZHAP_FIELDS_MAX) {
		errno = EINVAL;
		return -1;
	}
	if ((copy = strdup(csv)) == NULL)
		return -1;
	p = copy;
	while ((line = next_line(&p)) != NULL) {
		if (line[0] == '#') {
			nf = split(line + (line[1] == ' ' ? 2 : 1), ',', f,
			    COLS_MAX);
			if (nf < 0)
				break;
			cpx = column(f, nf, "pxname");
			csv_ = column(f, nf, "svname");
			for (i = 0; i < n; i++)
				if ((col[i] = column(f, nf, names[i])) < 0)
					break;
			if (cpx < 0 || csv_ < 0 || i < n)
				break;
			err = ENOENT;
			continue;
		}
		if (*line == '\0' || err != ENOENT)
			continue;
		nf = split(line, ',', f, COLS_MAX);
		if (nf <= cpx || nf <= csv_ || strcmp(f[cpx], backend) != 0 ||
		    strcmp(f[csv_], server) != 0)
			continue;
		for (i = 0; i < n; i++) {
			/* An empty field is zero, as HAProxy prints it. */
			if (col[i] >= nf || *f[col[i]] == '\0')
				v = 0;
			else if (small_int(f[col[i]], &v) == -1)
				break;
			vals[i] = v;
		}
		if (i < n) {
			err = EINVAL;
			break;
		}
		rc = 0;
		break;
	}
	free(copy);
	if (rc == -1)
		errno = err;
	return rc;
}

long
zhap_parse_sessions(const char *csv, const char *backend, const char *server)
{
	static const char *const names[] = { "qcur", "scur" };
	long v[2];

	if (zhap_stat_fields(csv, backend, server, names, 2, v) == -1)
		return -1;
	return v[0] + v[1];
}

int
zhap_parse_answers(const char *csv, const char *backend, const char *server,
    long *total, long *c5xx)
{
	static const char *const names[] = { "hrsp_1xx", "hrsp_2xx",
	    "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other" };
	long v[6];
	int i;

	if (zhap_stat_fields(csv, backend, server, names, 6, v) == -1)
		return -1;
	for (*total = 0, i = 0; i < 6; i++)
		*total += v[i];
	*c5xx = v[4];
	return 0;
}

char *
zhap_ask(const struct zhap *h, const char *cmd)
{
	return zhap_cmd(h->socket, cmd, h->timeout);
}

int
zhap_servers(const struct zhap *h, struct zhap_server **v, char *first,
    size_t size)
{
	char cmd[256], *out;
	const char *p;
	size_t lines = 1;
	int n;

	*v = NULL;
	*first = '\0';
	snprintf(cmd, sizeof cmd, "show servers state %s", h->backend);
	if ((out = zhap_ask(h, cmd)) == NULL)
		return -1;
	/* A backend may hold any number of servers: one a line at most. */
	for (p = out; *p != '\0'; p++)
		lines += *p == '\n';
	if ((*v = calloc(lines, sizeof **v)) == NULL) {
		free(out);
		return -1;
	}
	n = zhap_parse_state(out, h->backend, *v, lines);
	if (n <= 0) {
		ztext_clean(out, strcspn(out, "\n"), first, size);
		free(*v);
		*v = NULL;
		n = 0;
	}
	free(out);
	return n;
}

const char *
zhap_state_word(int admin_state)
{
	if (admin_state & ZHAP_MAINT)
		return "maint";
	if (admin_state & ZHAP_DRAIN)
		return "drain";
	return "ready";
}

int
zhap_set(const struct zhap *h, const char *server, const char *kind,
    const char *value, const char *verb)
{
	char cmd[256], what[200], *out;
	int weight = strcmp(kind, "weight") == 0;

	snprintf(cmd, sizeof cmd, weight ? "set weight %s/%s %s" :
	    "set server %s/%s state %s", h->backend, server, value);
	snprintf(what, sizeof what, "%s %s/%s %s%s", verb, h->backend,
	    server, weight ? "weight " : "", value);
	if ((out = zhap_ask(h, cmd)) == NULL) {
		zerr("%s: cannot reach HAProxy at %s", what, h->socket);
		return -1;
	}
	if (!zhap_ok(out)) {
		zerrx("HAProxy refused to %s:", what);
		zrelay(out);
		free(out);
		errno = EPERM;
		return -1;
	}
	free(out);
	return 0;
}

int
zhap_step(const struct zhap *h, struct zhap_plan *pl, const char *server,
    const char *kind, const char *value, const char *was)
{
	if (pl->n == ZHAP_STEPS_MAX) {
		errno = E2BIG;
		return -1;
	}
	if (zhap_set(h, server, kind, value, "set") == -1)
		return -1;
	snprintf(pl->steps[pl->n].server, sizeof pl->steps[pl->n].server,
	    "%s", server);
	pl->steps[pl->n].kind = kind;
	snprintf(pl->steps[pl->n].was, sizeof pl->steps[pl->n].was, "%s",
	    was);
	pl->n++;
	return 0;
}

int
zhap_undo(const struct zhap *h, struct zhap_plan *pl)
{
	int ok = 1;

	while (pl->n > 0) {
		pl->n--;
		if (zhap_set(h, pl->steps[pl->n].server, pl->steps[pl->n].kind,
		    pl->steps[pl->n].was, "put back") == -1)
			ok = 0;
	}
	return ok ? 0 : -1;
}
