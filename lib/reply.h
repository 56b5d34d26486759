/*
 * The reading of what chat services answer.  Answers come from the
 * network and are untrusted: every reader takes a byte buffer and a
 * length, never assumes a terminating NUL, and is safe on any input, so
 * that a fuzzing harness can call it directly.  Nothing here does I/O.
 */
#ifndef ZDD_REPLY_H
#define ZDD_REPLY_H

#include <stddef.h>
#include <time.h>

#include "webhook.h"

/*
 * A message posted that --update can edit later: "slack:CHANNEL:TS" or
 * "discord:ID".
 */
struct zwh_ref {
	int	kind;
	char	channel[64];
	char	id[64];
};
int	zwh_ref_parse(const char *s, struct zwh_ref *ref);
/*
 * When the message ref names was posted, in seconds since the epoch: a
 * Slack ts is that time, a Discord id (a snowflake) holds it in its top
 * bits.  -1 if ref holds no time.
 */
double	zwh_ref_time(const struct zwh_ref *ref);
/* "42s", "3m 12s" or "1h 02m" for sec seconds, in buf. */
void	zwh_duration(double sec, char *buf, size_t size);
/* The text form of ref in buf; -1 if it does not fit. */
int	zwh_ref_format(const struct zwh_ref *ref, char *buf, size_t size);

/*
 * Readers of untrusted answers.
 *
 * zwh_slack_ok: 1 if a Slack webhook's body is "ok" (a trailing newline
 * allowed), else 0.
 * zwh_slack_api: reads a Slack Web API answer ({"ok":true,"channel":..,
 * "ts":..} or {"ok":false,"error":..}); 0 and ref filled when ok, -1 with
 * the error (or a description of the garbage) in reason otherwise.
 * zwh_discord_id: the message id of a Discord "?wait=true" answer in ref;
 * -1 if there is none that looks like a snowflake.
 * zwh_retry_body: seconds to wait from a JSON body's "retry_after" (Discord,
 * Slack API), or -1.
 * zwh_reason: a short, printable, single-line description of an error
 * body, for stderr: a JSON body's "error", "message" or "text" member,
 * else the text itself, with every byte that could move a terminal's
 * cursor replaced.  Always NUL-terminates out (size > 0).
 */
int	zwh_slack_ok(const char *body, size_t len);
int	zwh_slack_api(const char *body, size_t len, struct zwh_ref *ref,
	    char *reason, size_t size);
int	zwh_discord_id(const char *body, size_t len, struct zwh_ref *ref);
double	zwh_retry_body(const char *body, size_t len);
void	zwh_reason(const char *body, size_t len, char *out, size_t size);

#endif
