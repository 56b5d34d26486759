/*
 * Text from outside (a server's answer, a response body, an error string
 * from a library that quotes what it was given) made safe to print: one
 * line of printable characters, bounded.  A terminal obeys control bytes,
 * so a server that can reach stderr could otherwise clear the screen,
 * move the cursor back over a line to forge "all good", or reorder what
 * follows with a bidi override.  Every such text goes through ztext_clean()
 * before it reaches stderr, stdout or a log.
 */
#ifndef ZDD_TEXT_H
#define ZDD_TEXT_H

#include <stddef.h>

/* What a cleaned text ends in when it was cut short. */
#define ZTEXT_MARK	"..."

/*
 * Copy the len bytes at s into out (size bytes, size > 0) as one line of
 * printable text, always NUL-terminated:
 * - runs of spaces, tabs and line breaks (CR, LF, VT, FF, U+0085, U+2028,
 *   U+2029) become one space, and none lead or trail;
 * - other C0 and C1 controls, DEL, the bidi embeddings, overrides and
 *   isolates (U+202A-202E, U+2066-2069), NUL and bytes that are not UTF-8
 *   become '?';
 * - valid printable UTF-8 stays as it is.
 * A text that does not fit ends in ZTEXT_MARK, never in half a character.
 * Returns out.
 */
char	*ztext_clean(const char *s, size_t len, char *out, size_t size);

/* The same into a malloc'd string of at most max bytes; NULL on ENOMEM. */
char	*ztext_dup(const char *s, size_t len, size_t max);

/* In place on a NUL-terminated string, which only gets shorter. */
char	*ztext_fix(char *s);

/*
 * 1 if s holds anything that ztext_clean() would not keep as it is,
 * other than single spaces: a line break, a tab, a control character, a
 * bidi control, a byte that is not UTF-8.  For values that end up in a
 * line of a log (a branch, a revision), which are refused rather than
 * mended.
 */
int	ztext_has_control(const char *s);

#endif
