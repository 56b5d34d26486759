/*
 * Chat and webhook services: which one a URL is, and the payload each one
 * expects for a deploy event, within its size limits and with no way for
 * the text of a commit to break the JSON or ping a channel.  reply.h reads
 * what they answer.  Nothing here does I/O.
 */
#ifndef ZDD_WEBHOOK_H
#define ZDD_WEBHOOK_H

#include <stddef.h>

#include <jansson.h>

enum zwh_kind {
	ZWH_WEBHOOK,
	ZWH_SLACK,
	ZWH_MATTERMOST,
	ZWH_DISCORD,
	ZWH_TEAMS,
	ZWH_GCHAT,
	ZWH_NKINDS
};

/* The kind named s ("slack", "google-chat" ...), or -1. */
int	zwh_kind(const char *s);
const char *zwh_kind_name(int kind);
/* The kind a webhook on this (lower-case) host is; ZWH_WEBHOOK if unknown. */
int	zwh_kind_guess(const char *host);

/*
 * The status word for s: "started", "success", "failure" or "rollback",
 * or an exit code (0 is success, 1 to 255 failure).  NULL if s is neither.
 */
const char *zwh_status(const char *s);

/*
 * s as valid UTF-8 of at most max bytes (0: no bound): invalid bytes and
 * NUL become U+FFFD, and a string cut short ends in ZWH_MARK, never in
 * half a character.  malloc'd; NULL only when out of memory.
 */
#define ZWH_MARK "…[truncated]"
char	*zwh_clip(const char *s, size_t len, size_t max);
/* Slack's escaping of &, < and > as &amp; &lt; &gt;; malloc'd. */
char	*zwh_slack_escape(const char *s);

/*
 * The one-line summary of a deploy event: "Deployed shop 2026… to prod".
 * ev is the flat event object: status, title, message, link, app, env,
 * release, revision and any other scalar members, shown as facts.
 */
char	*zwh_headline(json_t *ev);

/*
 * The JSON body to send to a service of this kind for event ev (whose
 * "title" member, if any, is the headline).  A new reference; NULL only
 * when out of memory.
 */
json_t	*zwh_payload(int kind, json_t *ev);

#endif
