"""`digest deploy`: commit the built site to a `gh-pages` branch and push it.

Like `mkdocs gh-deploy`, but the working tree and the index are never touched: the
commit is made with git plumbing through a temporary index file. Each deploy adds one
commit on top of the branch's history.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from digest import __version__
from digest.errors import BuildError, Diagnostic


@dataclass(frozen=True)
class Deployed:
    commit: str
    branch: str
    remote: str | None  # None when not pushed


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, timeout=300)
    if result.returncode:
        raise GitError(args, result.stderr.strip() or result.stdout.strip())
    return result.stdout.strip()


class GitError(Exception):
    def __init__(self, args: tuple[str, ...], message: str) -> None:
        super().__init__(f"git {' '.join(args)}: {message}")
        self.message = message


def fail(message: str, hint: str) -> BuildError:
    return BuildError([Diagnostic("deploy", 0, 0, message, hint=hint)])


def identity(root: Path) -> dict[str, str]:
    """A committer identity if git has none configured (CI machines often do not)."""
    try:
        git(root, "config", "user.email")
        return {}
    except GitError:
        return {"GIT_AUTHOR_NAME": "digest", "GIT_AUTHOR_EMAIL": "digest@localhost",
                "GIT_COMMITTER_NAME": "digest", "GIT_COMMITTER_EMAIL": "digest@localhost"}


def deploy(root: Path, site: Path, branch: str = "gh-pages", remote: str | None = "origin",
           message: str | None = None) -> Deployed:
    try:
        git(root, "rev-parse", "--git-dir")
    except (GitError, FileNotFoundError):
        raise fail(f"{root} is not a git repository",
                   "run `git init` and add a remote, e.g. `git remote add origin URL`"
                   ) from None
    if remote is not None:
        try:
            git(root, "remote", "get-url", remote)
        except GitError:
            raise fail(f"git has no remote named '{remote}'",
                       f"add it with `git remote add {remote} URL`, or pass --remote"
                       ) from None
    try:
        source = git(root, "rev-parse", "--short", "HEAD")
        # Built from what the work tree holds: say so when that is not HEAD.
        if git(root, "status", "--porcelain", "--untracked-files=normal", "--", "."):
            source += " with uncommitted changes"
    except GitError:
        source = "an uncommitted tree"
    try:
        commit = publish(root, site, branch, message or f"Deploy {source} with digest "
                                                        f"{__version__}")
    except GitError as error:
        raise fail(f"committing the site to {branch} failed: {error}",
                   f"nothing was pushed; fix what git reports (e.g. remove a stale "
                   f".git/refs/heads/{branch}.lock), then run `digest deploy` again"
                   ) from None
    if remote is not None:
        try:
            git(root, "push", remote, f"refs/heads/{branch}:refs/heads/{branch}")
        except GitError as error:
            raise fail(f"pushing {branch} to {remote} failed: {error.message}",
                       "check the remote's address and your access; the commit is kept on "
                       f"the local {branch} branch, so `digest deploy` can be run again"
                       ) from None
    return Deployed(commit, branch, remote)


def publish(root: Path, site: Path, branch: str, text: str) -> str:
    """Commit the site folder as the next commit of `branch`; returns the commit."""
    env = identity(root)
    git_dir = git(root, "rev-parse", "--absolute-git-dir")
    with tempfile.TemporaryDirectory() as scratch:
        # The site folder is the work tree and a scratch file the index: the project's
        # own work tree and index stay exactly as they were.
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        in_site = (f"--git-dir={git_dir}", "--work-tree=.")
        git(site, *in_site, "add", "--all", "--force", ".", env=index)
        tree = git(site, *in_site, "write-tree", env=index)
    parent: list[str] = []
    with contextlib.suppress(GitError):  # on the first deploy the branch starts here
        parent = ["-p", git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")]
    commit = git(root, "commit-tree", tree, *parent, "-m", text, env=env)
    git(root, "update-ref", f"refs/heads/{branch}", commit)
    return commit
