/*
 * CI environment.  Each system names the same facts differently; this is
 * the one place that knows the spellings, so tools ask for "the branch"
 * and never for GIT_BRANCH or GITHUB_REF_NAME.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci.h"

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return (v != NULL && *v != '\0') ? v : NULL;
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
	put(o, "build", first("BUILD_NUMBER", "GITHUB_RUN_ID", "TRAVIS_BUILD_NUMBER"));
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
	put(o, "repository", first("GITHUB_REPOSITORY", "TRAVIS_REPO_SLUG", NULL));
	put(o, "branch", zci_branch());
	put(o, "revision", zci_revision());
	put(o, "application", env("APPLICATION_NAME"));
	put(o, "deployment_id", env("DEPLOYMENT_ID"));
	put(o, "deployment_group", env("DEPLOYMENT_GROUP_NAME"));
	put(o, "lifecycle_event", env("LIFECYCLE_EVENT"));
	return o;
}
