/*
 * Whether a backend accepts connections right now: the guard zdd-switch
 * runs before it sends traffic anywhere.  ADDR is written as nginx
 * writes a server: HOST:PORT, [V6]:PORT or unix:/PATH.
 */
#ifndef ZDD_REACH_H
#define ZDD_REACH_H

#include <stddef.h>

/*
 * Open a connection to addr and close it, within timeout seconds.
 * 0 when it opened; -1 when it did not, with the reason in why; 1 when
 * addr is no address (a bare name: an nginx upstream group), which
 * cannot be tried.
 */
int	zreach(const char *addr, double timeout, char *why, size_t size);

#endif
