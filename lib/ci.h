/*
 * What the CI system that runs a deploy says about it, read from the
 * environment of Jenkins, GitHub Actions, Travis CI and AWS CodeDeploy.
 */
#ifndef ZDD_CI_H
#define ZDD_CI_H

#include <jansson.h>

/* The branch being deployed, or NULL (Jenkins' "origin/" prefix dropped). */
const char *zci_branch(void);
/* The commit being deployed, or NULL. */
const char *zci_revision(void);
/*
 * Every CI fact found, as an object of strings: ci, job, build, build_url,
 * repository, branch, revision, deployment_id, deployment_group,
 * application, lifecycle_event.  Absent facts are left out.
 */
json_t	*zci_fields(void);
/*
 * The CI run that is deploying: its system ("jenkins", "github-actions",
 * "travis", "codedeploy"), its id (Jenkins BUILD_NUMBER, GitHub Actions
 * GITHUB_RUN_ID, Travis TRAVIS_BUILD_ID, CodeDeploy DEPLOYMENT_ID) and its
 * web page; each NULL when unknown.  The strings are static.
 */
void	zci_run(const char **ci, const char **id, const char **url);

#endif
