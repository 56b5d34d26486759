/*
 * CI environment.  Each system names the same facts differently; this is
 * the one place that knows the spellings, so tools ask for "the branch"
 * and never for GIT_BRANCH or GITHUB_REF_NAME.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci.h"
#include "text.h"

/* The longest CI value kept: a URL, a branch name, a commit sha. */
#define CI_VALUE_MAX	512

/*
 * A CI variable, cleaned: whoever can push a branch names it, and the
 * name reaches revisions.log, manifests and chat messages, so a newline
 * or a terminal control in it must not forge a line there.  Each value
 * is cleaned once and kept for the life of the process.
 */
static const char *
env(const char *name)
{
	static struct {
		const char	*name;
		char		*value;
	} seen[32];
	static size_t nseen;
	const char *v = getenv(name);
	size_t i;

	if (v == NULL || *v == '\0')
		return NULL;
	for (i = 0; i < nseen; i++)
		if (strcmp(seen[i].name, name) == 0)
			return seen[i].value;
	if (!ztext_has_control(v) && strlen(v) <= CI_VALUE_MAX)
		return v;
	if (nseen == sizeof seen / sizeof seen[0] ||
	    (seen[nseen].value = ztext_dup(v, strlen(v), CI_VALUE_MAX)) == NULL)
		return "?";
	seen[nseen].name = name;
	return seen[nseen++].value;
}

static const char *
first(const char *a, const char *b, const char *c)
{
	const char *v;

	if ((v = env(a)) != NULL)
		return v;
	if (b != NULL && (v = env(b)) != NULL)
		return v;
	return c != NULL ? env(c) : NULL;
}

const char *
zci_branch(void)
{
	const char *b = first("GIT_BRANCH", "GITHUB_REF_NAME", "TRAVIS_BRANCH");

	if (b != NULL && strncmp(b, "origin/", 7) == 0 && b[7] != '\0')
		b += 7;
	return b;
}

const char *
zci_revision(void)
{
	return first("GIT_COMMIT", "GITHUB_SHA", "TRAVIS_COMMIT");
}

static void
put(json_t *o, const char *key, const char *val)
{
	if (val != NULL)
		json_object_set_new(o, key, json_string(val));
}

json_t *
zci_fields(void)
{
	json_t *o = json_object();
	const char *ci = NULL;
	char url[2048];

	if (env("JENKINS_URL") || env("JENKINS_HOME") || env("BUILD_URL"))
		ci = "jenkins";
	else if (env("GITHUB_ACTIONS"))
		ci = "github-actions";
	else if (env("TRAVIS"))
		ci = "travis";
	else if (env("DEPLOYMENT_ID") && env("LIFECYCLE_EVENT"))
		ci = "codedeploy";
	put(o, "ci", ci);
	put(o, "job", first("JOB_NAME", NULL, NULL));
	put(o, "build", first("BUILD_NUMBER", "GITHUB_RUN_ID",
	    "TRAVIS_BUILD_NUMBER"));
	if (env("BUILD_URL"))
		put(o, "build_url", env("BUILD_URL"));
	else if (env("TRAVIS_BUILD_WEB_URL"))
		put(o, "build_url", env("TRAVIS_BUILD_WEB_URL"));
	else if (env("GITHUB_SERVER_URL") && env("GITHUB_REPOSITORY") &&
	    env("GITHUB_RUN_ID")) {
		snprintf(url, sizeof url, "%s/%s/actions/runs/%s",
		    env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY"),
		    env("GITHUB_RUN_ID"));
		put(o, "build_url", url);
	}
	put(o, "repository", first("GITHUB_REPOSITORY", "TRAVIS_REPO_SLUG",
	    NULL));
	put(o, "branch", zci_branch());
	put(o, "revision", zci_revision());
	put(o, "application", env("APPLICATION_NAME"));
	put(o, "deployment_id", env("DEPLOYMENT_ID"));
	put(o, "deployment_group", env("DEPLOYMENT_GROUP_NAME"));
	put(o, "lifecycle_event", env("LIFECYCLE_EVENT"));
	return o;
}

void
zci_run(const char **ci, const char **id, const char **url)
{
	static char gh[2048];

	*ci = *id = *url = NULL;
	if (env("BUILD_URL") || env("JENKINS_URL") || env("JENKINS_HOME")) {
		*ci = "jenkins";
		*id = env("BUILD_NUMBER");
		*url = env("BUILD_URL");
	} else if (env("GITHUB_ACTIONS") || env("GITHUB_RUN_ID")) {
		*ci = "github-actions";
		*id = env("GITHUB_RUN_ID");
		if (env("GITHUB_SERVER_URL") && env("GITHUB_REPOSITORY") &&
		    *id != NULL) {
			snprintf(gh, sizeof gh, "%s/%s/actions/runs/%s",
			    env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY"),
			    *id);
			*url = gh;
		}
	} else if (env("TRAVIS") || env("TRAVIS_BUILD_ID")) {
		*ci = "travis";
		*id = env("TRAVIS_BUILD_ID");
		*url = env("TRAVIS_BUILD_WEB_URL");
	} else if (env("DEPLOYMENT_ID")) {
		*ci = "codedeploy";
		*id = env("DEPLOYMENT_ID");
	}
}

