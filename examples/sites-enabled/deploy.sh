#!/bin/sh
# Blue/green through nginx's sites-enabled (seed 002): the same deploy as
# ../nginx-include/deploy.sh, but zdd-switch moves the link
# sites-enabled/app between sites-available/blue and sites-available/green
# (two whole server blocks, each proxying to its colour) instead of
# rewriting an include file.  The new link is made under a name that
# "include sites-enabled/*" cannot pick up, checked with nginx -t, and
# renamed into place; the old workers are drained before the old colour
# stops.
#
# usage: deploy.sh ARTIFACT
#
#   SITES        nginx's directory holding sites-available and
#                sites-enabled (default /etc/nginx)
#   SITE         the name of the link in sites-enabled (default app)
#   TARGETS      the colours: "-t blue=ADDR -t green=ADDR" (default
#                zdd-switch's 127.0.0.1:8081 and :8082)
#   NGINX_OPTS   more zdd-switch options, e.g. --nginx-arg for a private
#                nginx and --pid-file
# and ZDD_ROOT, START_CMD, STOP_CMD, HEALTH_PATH, DEADLINE, DRAIN, KEEP,
# RELEASE_ID, ZDD_NOTIFY_URL as in ../nginx-include/deploy.sh.
set -u
sites=${SITES:-/etc/nginx}
SWITCH_OPTS="${TARGETS-} -l $sites/sites-enabled/${SITE:-app} -a $sites/sites-available ${NGINX_OPTS-}"
export SWITCH_OPTS
exec sh "$(dirname "$0")/../nginx-include/deploy.sh" "$@"
