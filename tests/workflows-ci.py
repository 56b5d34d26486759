#!/usr/bin/env python3
"""Runs the shell steps of a CI file the way its CI would, on this
machine, so that tests/7N-*.t test the example files themselves and not
a copy of their commands.

usage: workflows-ci.py github WORKFLOW.yml JOB
       workflows-ci.py travis .travis.yml
       workflows-ci.py jenkins Jenkinsfile
       workflows-ci.py codedeploy REVISION FSROOT [PREVIOUS-REVISION]

The current directory is the workspace, the environment is the runner's.
GitHub Actions: the job's env (${{ secrets.NAME }} is taken from the
environment variable NAME), then each step's run: with bash -e -o
pipefail, skipping uses: steps, and if: failure() steps unless a step
failed.  Travis: script:, then on success deploy.script when the branch
(TRAVIS_BRANCH) is deploy.on.branch, then after_failure: on failure.
Jenkins (declarative): environment { K = 'v' } and credentials('ID')
from the environment, each sh step of the stages in order until one
fails, then the post conditions always, failure or success.  Each step
is echoed to stderr as "+ step"; the exit status is 0 when the build
passed, else 1.

CodeDeploy (in-place, as the agent does it): ApplicationStop from the
previous revision's appspec (skipped on a first deployment), BeforeInstall,
the Install step (each files: source copied to FSROOT + destination,
what the last deployment put there removed first), AfterInstall, ApplicationStart, ValidateService; each hook
script run by path from the revision, with LIFECYCLE_EVENT, DEPLOYMENT_ID,
APPLICATION_NAME, DEPLOYMENT_GROUP_NAME and DEPLOYMENT_GROUP_ID (the
deployment's come from the environment), killed at its timeout; the
first hook that fails fails the deployment (exit 1).
"""
import os
import re
import subprocess
import sys

import yaml


def sh(cmd, env, bash=True):
    sys.stderr.write("+ %s\n" % cmd.strip().splitlines()[0])
    sys.stderr.flush()
    argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", cmd] \
        if bash else ["sh", "-ec", cmd]
    return subprocess.call(argv, env=env, stdin=subprocess.DEVNULL)


def secrets(value, env):
    return re.sub(r"\$\{\{\s*secrets\.(\w+)\s*\}\}",
                  lambda m: env.get(m.group(1), ""), str(value))


def github(path, job):
    wf = yaml.safe_load(open(path))
    j = wf["jobs"][job]
    env = dict(os.environ)
    env.update({"GITHUB_ACTIONS": "true", "CI": "true",
                "RUNNER_TEMP": env.get("RUNNER_TEMP", "/tmp"),
                "GITHUB_WORKSPACE": os.getcwd()})
    for k, v in (wf.get("env") or {}).items():
        env[k] = secrets(v, env)
    for k, v in (j.get("env") or {}).items():
        env[k] = secrets(v, env)
    failed = False
    for step in j["steps"]:
        if "run" not in step:
            continue
        cond = str(step.get("if", "success()"))
        if ("failure()" in cond) != failed and "always()" not in cond:
            continue
        if "${{" in step["run"]:
            sys.exit("workflows-ci: an expression in a run step: %s"
                     % step["run"])
        senv = dict(env)
        for k, v in (step.get("env") or {}).items():
            senv[k] = secrets(v, env)
        if sh(step["run"], senv) != 0:
            failed = True
    return 1 if failed else 0


def travis(path):
    t = yaml.safe_load(open(path))
    env = dict(os.environ, TRAVIS="true", CI="true")
    failed = False
    for cmd in t.get("script") or []:
        if sh(cmd, env) != 0:
            failed = True
            break
    d = t.get("deploy")
    if not failed and d and d.get("provider") == "script":
        # YAML 1.1 reads a bare "on" key as true.
        branch = (d.get("on", d.get(True)) or {}).get("branch")
        if branch is None or branch == env.get("TRAVIS_BRANCH"):
            if sh(d["script"], env) != 0:
                failed = True
    if failed:
        for cmd in t.get("after_failure") or []:
            sh(cmd, env)
    return 1 if failed else 0


STR = r"'''(.*?)'''|\"\"\"(.*?)\"\"\"|'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\""


def jenkins(path):
    text = open(path).read()
    text = re.sub(r"(?m)^\s*//.*$", "", text)
    env = dict(os.environ, JENKINS_URL=os.environ.get("JENKINS_URL",
                                                      "http://jenkins/"))
    stages, post = [], {}
    stack = []
    pos = 0
    tok = re.compile(r"(\w+)\s*(?:\([^)]*\))?\s*\{|\}|\bsh\s+(?:" + STR + ")|"
                     r"(\w+)\s*=\s*(?:credentials\('([^']*)'\)|" + STR + ")",
                     re.S)
    while True:
        m = tok.search(text, pos)
        if not m:
            break
        pos = m.end()
        g = m.groups()
        if m.group(0) == "}":
            stack.pop()
        elif g[0]:
            stack.append(g[0])
        elif m.group(0).startswith("sh"):
            cmd = next(x for x in g[1:5] if x is not None)
            if "post" in stack:
                post.setdefault(stack[-1], []).append(cmd)
            else:
                stages.append(cmd)
        elif g[5] and stack and stack[-1] == "environment":
            if g[6] is not None:
                env[g[5]] = os.environ.get(g[6], "")
            else:
                env[g[5]] = next(x for x in g[7:11] if x is not None)
    failed = False
    for cmd in stages:
        if sh(cmd, env, bash=False) != 0:
            failed = True
            break
    for cond in ("always", "failure" if failed else "success"):
        for cmd in post.get(cond, []):
            if sh(cmd, env, bash=False) != 0:
                failed = True
    return 1 if failed else 0


def codedeploy_hooks(revision, event, env):
    spec = yaml.safe_load(open(os.path.join(revision, "appspec.yml")))
    for hook in (spec.get("hooks") or {}).get(event) or []:
        script = os.path.join(revision, hook["location"])
        henv = dict(env, LIFECYCLE_EVENT=event)
        sys.stderr.write("+ %s: %s\n" % (event, hook["location"]))
        sys.stderr.flush()
        try:
            rc = subprocess.call([script], env=henv, cwd="/",
                                 stdin=subprocess.DEVNULL,
                                 timeout=int(hook.get("timeout", 3600)))
        except subprocess.TimeoutExpired:
            rc = -1
        if rc != 0:
            sys.stderr.write("LifecycleEvent - %s: script %s failed with "
                             "exit code %d\n" % (event, hook["location"], rc))
            return False
    return True


def codedeploy(revision, fsroot, previous=None):
    import shutil
    env = dict(os.environ)
    for k in ("DEPLOYMENT_ID", "APPLICATION_NAME", "DEPLOYMENT_GROUP_NAME"):
        if k not in env:
            sys.exit("workflows-ci: codedeploy needs %s" % k)
    env.setdefault("DEPLOYMENT_GROUP_ID", "dg-" + env["DEPLOYMENT_GROUP_NAME"])
    if previous and not codedeploy_hooks(previous, "ApplicationStop", env):
        return 1
    if not codedeploy_hooks(revision, "BeforeInstall", env):
        return 1
    spec = yaml.safe_load(open(os.path.join(revision, "appspec.yml")))
    for f in spec.get("files") or []:
        src = os.path.join(revision, f["source"].lstrip("/"))
        dst = fsroot + f["destination"]
        sys.stderr.write("+ Install: %s -> %s\n" % (f["source"], dst))
        # The agent removes what the last deployment installed first.
        if os.path.isdir(src):
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
        else:
            os.makedirs(dst, exist_ok=True)
            shutil.copy2(src, dst)
    for event in ("AfterInstall", "ApplicationStart", "ValidateService"):
        if not codedeploy_hooks(revision, event, env):
            return 1
    return 0


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "github":
        sys.exit(github(sys.argv[2], sys.argv[3]))
    if kind == "travis":
        sys.exit(travis(sys.argv[2]))
    if kind == "jenkins":
        sys.exit(jenkins(sys.argv[2]))
    if kind == "codedeploy":
        sys.exit(codedeploy(*sys.argv[2:5]))
    sys.exit(__doc__)
