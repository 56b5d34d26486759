/*
 * Who and where: the names that a manifest, revisions.log and the event
 * log give to the person and the machine behind a deploy.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ident.h"
#include "text.h"

const char *
zuser(void)
{
	static char buf[32];
	struct passwd *pw;
	const char *u = getenv("USER");

	/*
	 * $USER names who logged in; after su or setpriv it may name another
	 * account than the one running us, and the log should name ours.  A
	 * $USER with a newline or a control in it would forge a line of
	 * revisions.log: the passwd name is used instead.
	 */
	if (u != NULL && *u != '\0' && strlen(u) <= 64 &&
	    !ztext_has_control(u) &&
	    ((pw = getpwnam(u)) == NULL || pw->pw_uid == geteuid()))
		return u;
	if ((pw = getpwuid(geteuid())) != NULL)
		return pw->pw_name;
	snprintf(buf, sizeof buf, "%u", (unsigned)geteuid());
	return buf;
}

const char *
zhost(void)
{
	static char buf[256];

	if (buf[0] == '\0' && gethostname(buf, sizeof buf - 1) == -1)
		strcpy(buf, "localhost");
	return ztext_fix(buf);
}
