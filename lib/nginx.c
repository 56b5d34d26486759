/*
 * The include file that zdd-switch writes for nginx, and nginx's master
 * and worker processes.  The file is read with a tokenizer that follows
 * nginx's own lexical rules (words, quoted words, escapes, ';', '{', '}',
 * '#' comments only where a token starts), so that zdd reads the file as
 * nginx does, to recognise the two shapes zdd writes however they were
 * re-indented, and nothing more: an unexpected word means a person put
 * something there, and zdd must not throw it away.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nginx.h"

#define TOK_MAX	32
#define WORD_MAX 512

/*
 * Tokens: words (kind 'w', quotes taken off and escapes read) and the
 * punctuation ';', '{' and '}' (kind the character itself), so that a
 * quoted "{" is a word and never a brace.
 */
struct lex {
	char	 words[TOK_MAX][WORD_MAX];
	char	 kind[TOK_MAX];
	int	 n;
};

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Add the word between s and e to l, its escapes read as nginx reads
 * them: \" \' \\ stand for the character, \t \r \n for the control, and
 * any other backslash stays as it is.
 */
static int
add_word(struct lex *l, const char *s, const char *e)
{
	size_t w = 0;
	char c;

	if (l->n == TOK_MAX)
		return -1;
	while (s < e) {
		c = *s++;
		if (c == '\\' && s < e) {
			switch (*s) {
			case '"': case '\'': case '\\':
				c = *s++;
				break;
			case 't': c = '\t'; s++; break;
			case 'r': c = '\r'; s++; break;
			case 'n': c = '\n'; s++; break;
			}
		}
		if (w + 1 >= WORD_MAX)
			return -1;
		l->words[l->n][w++] = c;
	}
	l->words[l->n][w] = '\0';
	l->kind[l->n++] = 'w';
	return 0;
}

static int
add_punct(struct lex *l, char c)
{
	if (l->n == TOK_MAX)
		return -1;
	l->words[l->n][0] = c;
	l->words[l->n][1] = '\0';
	l->kind[l->n++] = c;
	return 0;
}

/*
 * Split buf into tokens the way nginx's ngx_conf_read_token() does:
 * '#' starts a comment only where a token may start (inside a word it is
 * part of the word, as in "http://a:1#;"); a quote opens a quoted word
 * only there too, and must be followed by a blank, ';' or '{'; a word
 * ends at a blank, ';' or '{' (not at '}', nor at "{" right after '$');
 * a backslash takes the next character as it is.  -1 wherever nginx
 * reports an error (";" or "{" with no directive, "}" after one, end of
 * file inside a directive or quotes), for a NUL byte, and for more or
 * longer tokens than either shape has.
 */
static int
lex(struct lex *l, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *start = NULL;
	int last_space = 1, need_space = 0, comment = 0, quoted = 0;
	int dq = 0, sq = 0, variable = 0, args = 0;
	char ch;

	l->n = 0;
	while (p < end) {
		ch = *p++;
		if (ch == '\0')
			return -1;
		if (comment) {
			if (ch == '\n')
				comment = 0;
			continue;
		}
		if (quoted) {
			quoted = 0;
			continue;
		}
		if (need_space) {
			if (blank(ch)) {
				last_space = 1;
				need_space = 0;
				continue;
			}
			if (ch == ';' || ch == '{') {
				if (add_punct(l, ch) == -1)
					return -1;
				args = 0;
				last_space = 1;
				need_space = 0;
				continue;
			}
			return -1;
		}
		if (last_space) {
			if (blank(ch))
				continue;
			start = p - 1;
			switch (ch) {
			case ';':
			case '{':
				if (args == 0 || add_punct(l, ch) == -1)
					return -1;
				args = 0;
				continue;
			case '}':
				if (args != 0 || add_punct(l, ch) == -1)
					return -1;
				continue;
			case '#':
				comment = 1;
				continue;
			case '\\':
				quoted = 1;
				break;
			case '"':
				start++;
				dq = 1;
				break;
			case '\'':
				start++;
				sq = 1;
				break;
			case '$':
				variable = 1;
				break;
			}
			last_space = 0;
			continue;
		}
		if (ch == '{' && variable)
			continue;
		variable = 0;
		if (ch == '\\') {
			quoted = 1;
			continue;
		}
		if (ch == '$') {
			variable = 1;
			continue;
		}
		if (dq || sq) {
			if ((dq && ch == '"') || (sq && ch == '\'')) {
				dq = sq = 0;
				need_space = 1;
			} else
				continue;
		} else if (!blank(ch) && ch != ';' && ch != '{')
			continue;
		else
			last_space = 1;
		if (add_word(l, start, p - 1) == -1)
			return -1;
		args++;
		if (ch == ';' || ch == '{') {
			if (add_punct(l, ch) == -1)
				return -1;
			args = 0;
		}
	}
	/* End of file: nothing may be left open, as nginx requires. */
	if (!last_space || dq || sq || args != 0)
		return -1;
	return 0;
}

/* Whether token i is a word, and then the word. */
static const char *
word(const struct lex *l, int i)
{
	return i < l->n && l->kind[i] == 'w' ? l->words[i] : NULL;
}

static int
punct(const struct lex *l, int i, char c)
{
	return i < l->n && l->kind[i] == c;
}

int
zngx_name_valid(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!isalnum((unsigned char)s[n]) && s[n] != '_')
			return 0;
	return n >= 1 && n <= ZNGX_NAME_MAX;
}

int
zngx_key_valid(const char *s)
{
	return s[0] == '$' && zngx_name_valid(s + 1);
}

int
zngx_addr_valid(const char *s)
{
	const char *p;
	size_t n = strlen(s);

	if (n == 0 || n > ZNGX_ADDR_MAX)
		return 0;
	if (strncmp(s, "unix:", 5) == 0) {
		if (s[5] != '/')
			return 0;
		for (p = s + 5; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) &&
			    strchr("._/-", *p) == NULL)
				return 0;
		return 1;
	}
	/* Host names, IPv4, [IPv6] and a port: nothing nginx would parse. */
	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr(".-_:[]", *p) == NULL)
			return 0;
	return s[0] != '-' && s[0] != ':';
}

static int
parse_set(struct lex *l, struct zngx_inc *inc)
{
	const char *var, *url;

	/* set $VAR URL ; */
	if (l->n != 4 || word(l, 0) == NULL ||
	    strcmp(l->words[0], "set") != 0 ||
	    (var = word(l, 1)) == NULL || (url = word(l, 2)) == NULL ||
	    !punct(l, 3, ';'))
		return -1;
	if (var[0] != '$' || !zngx_name_valid(var + 1))
		return -1;
	if (strncmp(url, "http://", 7) != 0)
		return -1;
	url += 7;
	if (!zngx_addr_valid(url))
		return -1;
	inc->format = ZNGX_SET;
	snprintf(inc->name, sizeof inc->name, "%.64s", var + 1);
	snprintf(inc->addr, sizeof inc->addr, "%.256s", url);
	inc->keepalive = 0;
	return 0;
}

/* A number in [min, max], all digits; -1 if w is anything else. */
static long
number(const char *w, long min, long max)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)w[0]))
		return -1;
	errno = 0;
	v = strtol(w, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	return v;
}

static int
parse_upstream(struct lex *l, struct zngx_inc *inc)
{
	const char *addr[2] = { NULL, NULL }, *key = NULL, *w;
	long ka = 0, weight[2] = { 0, 0 };
	int i, j, n, nserv = 0;

	/*
	 * upstream NAME { server ADDR [weight=N]; [keepalive N;]
	 * [hash KEY consistent;] }, the statements in any order.
	 */
	if (l->n < 7 || (w = word(l, 0)) == NULL ||
	    strcmp(w, "upstream") != 0 || word(l, 1) == NULL ||
	    !zngx_name_valid(l->words[1]) || !punct(l, 2, '{') ||
	    !punct(l, l->n - 1, '}'))
		return -1;
	for (i = 3; i < l->n - 1; i = j + 1) {
		/* One statement: words i .. j-1, then ';' at j. */
		for (j = i; j < l->n - 1 && word(l, j) != NULL; j++)
			;
		if (!punct(l, j, ';'))
			return -1;
		n = j - i;
		w = l->words[i];
		if (strcmp(w, "server") == 0 && nserv < 2 && (n == 2 ||
		    (n == 3 && strncmp(l->words[i + 2], "weight=", 7) == 0))) {
			addr[nserv] = l->words[i + 1];
			if (!zngx_addr_valid(addr[nserv]))
				return -1;
			if (n == 3 && (weight[nserv] = number(l->words[i + 2] +
			    7, 1, 99)) == -1)
				return -1;
			nserv++;
		} else if (strcmp(w, "keepalive") == 0 && ka == 0 && n == 2) {
			if ((ka = number(l->words[i + 1], 1, 65535)) == -1)
				return -1;
		} else if (strcmp(w, "hash") == 0 && key == NULL && n == 3 &&
		    strcmp(l->words[i + 2], "consistent") == 0) {
			key = l->words[i + 1];
			if (!zngx_key_valid(key))
				return -1;
		} else
			return -1;
	}
	/* One plain server; or a canary: two, weighed, and hashed. */
	if (nserv == 0 || (nserv == 1 && (key != NULL || weight[0] != 0)) ||
	    (nserv == 2 && (key == NULL || weight[0] == 0 || weight[1] == 0 ||
	    weight[0] + weight[1] != 100)))
		return -1;
	inc->format = ZNGX_UPSTREAM;
	snprintf(inc->name, sizeof inc->name, "%.64s", l->words[1]);
	snprintf(inc->addr, sizeof inc->addr, "%.256s", addr[0]);
	inc->keepalive = (unsigned)ka;
	if (nserv == 2) {
		snprintf(inc->canary, sizeof inc->canary, "%.256s", addr[1]);
		snprintf(inc->key, sizeof inc->key, "%.65s", key);
		inc->weight = (unsigned)weight[0];
		inc->canary_weight = (unsigned)weight[1];
	}
	return 0;
}

int
zngx_parse(const char *buf, size_t len, struct zngx_inc *inc)
{
	struct lex *l;
	int rc = -1;

	if ((l = malloc(sizeof *l)) == NULL)
		return -1;
	memset(inc, 0, sizeof *inc);
	if (lex(l, buf, len) == 0) {
		if (l->n == 0)
			rc = 1;
		else if (parse_set(l, inc) == 0 || parse_upstream(l, inc) == 0)
			rc = 0;
	}
	free(l);
	if (rc == -1)
		errno = EINVAL;
	return rc;
}

char *
zngx_render(const struct zngx_inc *inc, const char *target)
{
	char *s = NULL, ka[32] = "", canary[ZNGX_ADDR_MAX + 128] = "";
	int n;

	if (!zngx_name_valid(inc->name) || !zngx_addr_valid(inc->addr)) {
		errno = EINVAL;
		return NULL;
	}
	if (inc->format == ZNGX_SET) {
		n = asprintf(&s, "# Written by zdd-switch: the live backend "
		    "is %s.\nset $%s http://%s;\n", target, inc->name,
		    inc->addr);
		return n == -1 ? NULL : s;
	}
	if (inc->keepalive > 0)
		snprintf(ka, sizeof ka, "\tkeepalive %u;\n", inc->keepalive);
	if (inc->canary[0] != '\0') {
		if (!zngx_addr_valid(inc->canary) ||
		    !zngx_key_valid(inc->key) || inc->weight < 1 ||
		    inc->canary_weight < 1 ||
		    inc->weight + inc->canary_weight != 100) {
			errno = EINVAL;
			return NULL;
		}
		snprintf(canary, sizeof canary, "\tserver %s weight=%u;\n",
		    inc->canary, inc->canary_weight);
		n = asprintf(&s, "# Written by zdd-switch: the live backend "
		    "is %s, a canary takes %u%% of the clients.\n"
		    "upstream %s {\n\thash %s consistent;\n"
		    "\tserver %s weight=%u;\n%s%s}\n", target,
		    inc->canary_weight, inc->name, inc->key, inc->addr,
		    inc->weight, canary, ka);
	} else
		n = asprintf(&s, "# Written by zdd-switch: the live backend "
		    "is %s.\nupstream %s {\n\tserver %s;\n%s}\n", target,
		    inc->name, inc->addr, ka);
	return n == -1 ? NULL : s;
}

/*
 * Tokens of the line, separators dropped: the addresses, then as many
 * statuses.
 */
int
zngx_log_answer(char *line, const char **addr, int *status)
{
	char *tok[64], *w, *save = NULL;
	size_t n = 0, len;

	for (w = strtok_r(line, " ", &save); w != NULL && n < 64;
	    w = strtok_r(NULL, " ", &save)) {
		if (strcmp(w, ":") == 0)
			continue;
		len = strlen(w);
		if (len > 0 && w[len - 1] == ',')
			w[len - 1] = '\0';
		tok[n++] = w;
	}
	if (n < 2 || n % 2 != 0 || strcmp(tok[n / 2 - 1], "-") == 0)
		return -1;
	/* A status is three digits, 100 to 599. */
	w = tok[n - 1];
	if (strlen(w) != 3 || w[0] < '1' || w[0] > '5' ||
	    !isdigit((unsigned char)w[1]) || !isdigit((unsigned char)w[2]))
		return -1;
	*addr = tok[n / 2 - 1];
	*status = (w[0] - '0') * 100 + (w[1] - '0') * 10 + (w[2] - '0');
	return 0;
}

pid_t
zngx_read_pid(const char *path)
{
	char buf[32], *end;
	ssize_t n;
	long v;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0) {
		errno = EINVAL;
		return -1;
	}
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\0' && *end != '\n') ||
	    v <= 1 || v > 0x3fffffff) {
		errno = EINVAL;
		return -1;
	}
	return (pid_t)v;
}

static int
cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

int
zngx_children(pid_t pid, struct zproc *v, size_t max, struct zproc_scan *sc)
{
	struct dirent *de;
	unsigned long long start;
	pid_t ppid, child;
	DIR *d;
	size_t n = 0;
	char state, *end;

	/*
	 * /proc/PID/task/TID/children needs CONFIG_PROC_CHILDREN, which
	 * not every kernel has; a scan of /proc works everywhere.
	 */
	if ((d = opendir("/proc")) == NULL)
		return -1;
	if (sc != NULL)
		sc->nseen = 0;
	while ((de = readdir(d)) != NULL && n < max) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		child = (pid_t)strtol(de->d_name, &end, 10);
		if (*end != '\0')
			continue;
		if (sc != NULL && sc->seen != NULL && sc->nseen < sc->maxseen)
			sc->seen[sc->nseen++] = child;
		if (sc != NULL && sc->skip != NULL &&
		    bsearch(&child, sc->skip, sc->nskip, sizeof child,
		    cmp_pid) != NULL)
			continue;
		if (zproc_stat(child, &state, &ppid, &start) == -1 ||
		    ppid != pid || state == 'Z' || state == 'X')
			continue;
		v[n].pid = child;
		v[n].start = start;
		n++;
	}
	closedir(d);
	if (sc != NULL && sc->seen != NULL)
		qsort(sc->seen, sc->nseen, sizeof *sc->seen, cmp_pid);
	return (int)n;
}

/* Whether pid's title (its argv[0] as ps shows it) starts with title. */
static int
titled(pid_t pid, const char *title)
{
	char path[64], buf[64];
	size_t tl = strlen(title);
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n >= (ssize_t)tl && memcmp(buf, title, tl) == 0;
}

/*
 * The executable pid runs, as device and inode: 0, 1 when /proc does not
 * show it to us (another user's process), -1 when pid is gone.
 */
static int
exe_of(pid_t pid, struct stat *sb)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	if (stat(path, sb) == 0)
		return 0;
	return errno == EACCES || errno == EPERM ? 1 : -1;
}

int
zngx_is_master(pid_t pid, const char *nginx)
{
	struct zproc kids[64];
	struct stat me, kid, bin;
	char path[64], target[4096], *base;
	ssize_t n;
	int i, nk, rc, krc, workers = 0;

	/*
	 * A title is what anyone may choose (exec -a), so it is only the
	 * first test.  The process must run an nginx executable: one named
	 * nginx, or the very file --nginx names; and its children must be
	 * workers running the same file, which a master forks and nothing
	 * else does.
	 */
	if (!titled(pid, "nginx: master process"))
		return 0;
	if ((rc = exe_of(pid, &me)) == -1)
		return 0;
	if (rc == 0) {
		snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
		n = readlink(path, target, sizeof target - 1);
		if (n <= 0)
			return 0;
		target[n] = '\0';
		base = strrchr(target, '/');
		base = base != NULL ? base + 1 : target;
		if (strncmp(base, "nginx", 5) != 0 &&
		    (nginx == NULL || stat(nginx, &bin) == -1 ||
		    bin.st_dev != me.st_dev || bin.st_ino != me.st_ino))
			return 0;
	} else {
		/*
		 * Another user's process, whose executable /proc hides from
		 * us: only root's is believed, since no unprivileged user can
		 * start a process as root to impersonate nginx.
		 */
		struct stat ps;

		snprintf(path, sizeof path, "/proc/%d", (int)pid);
		if (stat(path, &ps) == -1 || ps.st_uid != 0)
			return 0;
	}
	if ((nk = zngx_children(pid, kids, 64, NULL)) <= 0)
		return 0;
	for (i = 0; i < nk; i++) {
		/* A worker of an earlier reload may exit as we look. */
		if (!titled(kids[i].pid, "nginx: ")) {
			if (!zproc_alive(&kids[i]))
				continue;
			return 0;
		}
		if (rc == 0 && (krc = exe_of(kids[i].pid, &kid)) == -1)
			continue;
		if (rc == 0 && (krc != 0 || kid.st_dev != me.st_dev ||
		    kid.st_ino != me.st_ino))
			return 0;
		if (titled(kids[i].pid, "nginx: worker process"))
			workers++;
	}
	return workers > 0;
}
