/*
 * zdd-demo-backend: the application that `make demo` deploys.  It serves
 * HTTP/1.1 with keep-alive on 127.0.0.1:PORT and answers "/" with the
 * version of the release it runs from (the VERSION file in DIR, read once
 * at start, as an application reads its code once), "/health" with a
 * JSON status, and "/slow?ms=N" after N milliseconds, so that a request
 * can be in flight across a switch.  One thread per connection keeps it
 * short; SIGTERM stops it at once, dropping whatever is in flight, as a
 * killed application server would.
 *
 * usage: zdd-demo-backend PORT DIR
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char version[64] = "unknown";

static int
send_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
respond(int fd, int code, const char *type, const char *body, int close_)
{
	char head[256];
	int n;

	n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nX-Version: %s\r\n%s\r\n", code,
	    code == 200 ? "OK" : "Not Found", type, strlen(body), version,
	    close_ ? "Connection: close\r\n" : "");
	if (send_all(fd, head, (size_t)n) == -1 ||
	    send_all(fd, body, strlen(body)) == -1)
		return -1;
	return 0;
}

/* Serve one connection: requests without bodies, one after another. */
static void *
serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[8192], path[1024], body[256], *end, *q;
	size_t len = 0, used;
	ssize_t n;
	long ms;
	int close_;

	for (;;) {
		while ((end = memmem(buf, len, "\r\n\r\n", 4)) == NULL) {
			if (len == sizeof buf)
				goto out;
			n = recv(fd, buf + len, sizeof buf - len, 0);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				goto out;
			len += (size_t)n;
		}
		used = (size_t)(end - buf) + 4;
		*end = '\0';
		if (sscanf(buf, "%*s %1023s", path) != 1)
			goto out;
		close_ = strcasestr(buf, "\r\nConnection: close") != NULL ||
		    strstr(buf, "HTTP/1.0") != NULL;
		if (strcmp(path, "/health") == 0) {
			snprintf(body, sizeof body,
			    "{\"status\":\"UP\",\"version\":\"%s\"}\n", version);
			n = respond(fd, 200, "application/json", body, close_);
		} else if (strncmp(path, "/slow", 5) == 0) {
			ms = 1000;
			if ((q = strstr(path, "ms=")) != NULL)
				ms = strtol(q + 3, NULL, 10);
			if (ms < 0 || ms > 60000)
				ms = 1000;
			struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };
			while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
				;
			snprintf(body, sizeof body, "version %s (slow)\n",
			    version);
			n = respond(fd, 200, "text/plain", body, close_);
		} else if (strcmp(path, "/") == 0) {
			snprintf(body, sizeof body, "version %s\n", version);
			n = respond(fd, 200, "text/plain", body, close_);
		} else
			n = respond(fd, 404, "text/plain", "not found\n",
			    close_);
		if (n == -1 || close_)
			goto out;
		memmove(buf, buf + used, len - used);
		len -= used;
	}
out:
	close(fd);
	return NULL;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sin;
	pthread_attr_t attr;
	pthread_t t;
	char file[4096];
	FILE *f;
	int s, c, one = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: zdd-demo-backend port dir\n");
		return 64;
	}
	snprintf(file, sizeof file, "%s/VERSION", argv[2]);
	if ((f = fopen(file, "r")) != NULL) {
		if (fgets(version, sizeof version, f) != NULL)
			version[strcspn(version, "\r\n")] = '\0';
		fclose(f);
	}
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    bind(s, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(s, 1024) == -1) {
		perror("zdd-demo-backend: cannot listen");
		return 69;
	}
	signal(SIGPIPE, SIG_IGN);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 128 << 10);
	for (;;) {
		if ((c = accept4(s, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE)
				continue;
			perror("zdd-demo-backend: accept");
			return 71;
		}
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (pthread_create(&t, &attr, serve, (void *)(intptr_t)c) != 0)
			close(c);
	}
}
