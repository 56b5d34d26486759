/*
 * The one sanitiser for text from outside.  It decodes UTF-8 itself
 * rather than trusting the locale: what matters is what a terminal will
 * do with the bytes, and terminals speak UTF-8 here.
 */
#include <stdlib.h>
#include <string.h>

#include "text.h"

/*
 * The code point of the UTF-8 sequence at s (at most n bytes), its length
 * in *len; -1 (with *len 1) for a byte that starts no valid sequence:
 * overlong forms, surrogates and values past U+10FFFF included.
 */
static long
decode(const unsigned char *s, size_t n, size_t *len)
{
	long cp, min;
	size_t need, i;

	*len = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else
		return -1;
	if (n < need)
		return -1;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = need;
	return cp;
}

/* 1 for what breaks a line or spaces: folded into one space. */
static int
is_space(long cp)
{
	return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0x85 ||
	    cp == 0x2028 || cp == 0x2029;
}

/* 1 for what a terminal acts on instead of showing. */
static int
is_control(long cp)
{
	return cp < 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

char *
ztext_clean(const char *s, size_t len, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, o = 0, n, w, okeep = 0, mark = sizeof ZTEXT_MARK - 1;
	size_t keep;
	int space = 0, bad;
	long cp;

	if (size == 0)
		return out;
	/* What may stay of a text that is cut: room for the mark after it. */
	keep = size - 1 > mark ? size - 1 - mark : 0;
	for (i = 0; i < len; i += n) {
		cp = decode(p + i, len - i, &n);
		if (is_space(cp)) {
			space = o > 0;
			continue;
		}
		bad = is_control(cp);
		w = (size_t)space + (bad ? 1 : n);
		if (o + w > size - 1) {
			o = okeep;
			w = size - 1 - o < mark ? size - 1 - o : mark;
			memcpy(out + o, ZTEXT_MARK, w);
			o += w;
			break;
		}
		if (space)
			out[o++] = ' ';
		space = 0;
		if (bad)
			out[o++] = '?';
		else {
			memmove(out + o, p + i, n);
			o += n;
		}
		if (o <= keep)
			okeep = o;
	}
	out[o] = '\0';
	return out;
}

char *
ztext_dup(const char *s, size_t len, size_t max)
{
	char *out;

	if ((out = malloc(max + 1)) == NULL)
		return NULL;
	return ztext_clean(s, len, out, max + 1);
}

char *
ztext_fix(char *s)
{
	size_t len = strlen(s);

	/*
	 * In place is safe: what is written never passes what is read, for
	 * every replacement is no longer than what it replaces.
	 */
	return ztext_clean(s, len, s, len + 1);
}

int
ztext_has_control(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, n, len = strlen(s);
	long cp;

	for (i = 0; i < len; i += n) {
		cp = decode(p + i, len - i, &n);
		if (cp != ' ' && (is_space(cp) || is_control(cp)))
			return 1;
	}
	return 0;
}
