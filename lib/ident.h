/*
 * Who runs a deploy and on which host, as manifests, revisions.log and
 * the event log name them.
 */
#ifndef ZDD_IDENT_H
#define ZDD_IDENT_H

/* The user running the deploy: $USER, else the passwd name, else the uid. */
const char *zuser(void);
/* This host's name. */
const char *zhost(void);

#endif
