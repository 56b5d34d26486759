/*
 * Clocks: monotonic seconds for deadlines, a sleep, and UTC times in
 * ISO 8601 for what people and logs read.
 */
#ifndef ZDD_CLOCK_H
#define ZDD_CLOCK_H

/* Monotonic seconds, and a sleep that resumes after signals. */
double	znow(void);
void	zsleep(double sec);

/* "2026-11-23T08:40:13Z" for t, in a static buffer. */
const char *ziso8601(long long t);

#endif
