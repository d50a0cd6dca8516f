"""`digest init` scaffolds a site that builds; `digest deploy` publishes to gh-pages."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.conftest import RunDigest, state_written
from tests.test_safety import snapshot

OFFICIAL_STEPS = ["actions/checkout", "actions/setup-python", "actions/configure-pages",
                  "actions/upload-pages-artifact", "actions/deploy-pages"]


def test_init_builds_at_once_and_never_overwrites(digest: RunDigest, tmp_path: Path) -> None:
    site = tmp_path / "news"
    first = digest("init", site)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count(": created") == 5
    built = digest("build", cwd=site)
    assert built.returncode == 0, built.stderr
    assert (site / "site/companies/example-co/index.html").is_file()
    workflow = yaml.safe_load((site / ".github/workflows/pages.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert "push" in triggers and "schedule" in triggers
    steps = [s.get("uses", s.get("run", "")) for job in workflow["jobs"].values()
             for s in job["steps"]]
    uses = [step.split("@")[0] for step in steps]
    for action in OFFICIAL_STEPS:
        assert action in uses, action
    assert "pip install ." in steps and any(s.startswith("digest build") for s in steps)
    assert workflow["permissions"] == {"contents": "read", "pages": "write",
                                       "id-token": "write"}
    # incremental deploys: the build state and the last site are restored before the build
    build_steps = workflow["jobs"]["build"]["steps"]
    cache = next(s for s in build_steps if s.get("uses", "").startswith("actions/cache@"))
    cached = cache["with"]["path"].split()
    assert ".digest-cache" in cached and "site" in cached
    assert "!.digest-cache/build/*/twin" in cached, "the twin is not worth storing"
    assert cache["with"]["key"].startswith("digest-${{ github.run_id }}")
    assert cache["with"]["restore-keys"] == "digest-", "a new key each run, restored by prefix"
    order = [s.get("name") for s in build_steps]
    assert order.index(cache["name"]) < order.index("Build")

    (site / "content/companies/example-co.md").write_text("edited by an editor\n")
    state_written(site)
    before = snapshot(site)
    again = digest("init", site)
    assert again.returncode == 0 and "created" not in again.stdout
    assert snapshot(site) == before


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=e@x", "-c", "user.name=E", *args],
                          cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_deploy_commits_exactly_the_site_to_gh_pages(digest: RunDigest, example_site: Path,
                                                     tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--bare", "-q", str(remote))
    git(example_site, "init", "-q", "-b", "main")
    git(example_site, "remote", "add", "origin", str(remote))
    (example_site / ".gitignore").write_text("site/\n.digest-cache/\n")
    git(example_site, "add", "-A")
    git(example_site, "commit", "-qm", "content")
    head, status = git(example_site, "rev-parse", "HEAD"), git(example_site, "status", "-s")

    result = digest("deploy", "-q", cwd=example_site)
    assert result.returncode == 0, result.stderr
    published = set(git(remote, "ls-tree", "-r", "--name-only", "gh-pages").splitlines())
    built = {p.relative_to(example_site / "site").as_posix()
             for p in (example_site / "site").rglob("*") if p.is_file()}
    assert published == built and ".nojekyll" in published
    assert git(remote, "rev-list", "--count", "gh-pages") == "1"

    assert digest("deploy", "-q", cwd=example_site).returncode == 0
    assert git(remote, "rev-list", "--count", "gh-pages") == "2"
    assert git(example_site, "rev-parse", "HEAD") == head, "main is untouched"
    assert git(example_site, "status", "-s") == status, "the working tree is untouched"
    assert git(example_site, "branch", "--show-current") == "main"


def test_deploy_errors_are_clear(digest: RunDigest, example_site: Path) -> None:
    not_a_repo = digest("deploy", "-q", cwd=example_site)
    assert not_a_repo.returncode == 1
    assert "is not a git repository" in not_a_repo.stderr and "Traceback" not in not_a_repo.stderr
    git(example_site, "init", "-q")
    git(example_site, "remote", "add", "origin", str(example_site / "missing.git"))
    failed = digest("deploy", "-q", cwd=example_site)
    assert failed.returncode == 1
    assert "pushing gh-pages to origin failed" in failed.stderr
    no_remote = digest("deploy", "-q", "--remote", "upstream", cwd=example_site)
    assert "no remote named 'upstream'" in no_remote.stderr
