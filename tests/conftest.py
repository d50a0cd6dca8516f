"""Shared fixtures: the real CLI in a subprocess, and fresh copies of fixture sites."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS, serve

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden"
INVALID = REPO / "tests" / "invalid"

RunDigest = Callable[..., subprocess.CompletedProcess[str]]


def run_cli(*args: str | Path, cwd: Path = REPO, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    """`python -m digest ARGS` in a subprocess, exactly as an editor would run it."""
    return subprocess.run(
        [sys.executable, "-m", "digest", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )


@pytest.fixture
def digest() -> RunDigest:
    return run_cli


def state_written(root: Path) -> None:
    """Wait (bounded) until the children that builds of the project at `root` leave
    writing their state or snapshot are done (resume.start_state_writer, SnapshotWriter):
    the cache folder changes for a moment after `digest build` returns."""
    pending = [".state.pending", ".snapshot.*"]
    for _ in range(2000):  # (10 s)
        if not any(found for name in pending
                   for found in (root / ".digest-cache" / "build").glob(f"*/{name}")):
            return
        time.sleep(0.005)
    raise AssertionError(f"a state writer of {root} is still writing")


@pytest.fixture
def example_site(tmp_path: Path) -> Path:
    """A private copy of the example site (content + settings), safe to modify."""
    site = tmp_path / "example"
    site.mkdir()
    shutil.copytree(REPO / "content", site / "content")
    shutil.copy(REPO / "pyproject.toml", site / "pyproject.toml")
    return site


@pytest.fixture(scope="session")
def built_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example site built once at the root URL, for read-only checks."""
    output = tmp_path_factory.mktemp("example-site")
    result = run_cli("build", "--quiet", "--output", output)
    assert result.returncode == 0, result.stderr
    return output


@pytest.fixture(scope="session")
def built_under_subpath(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("repo-site")
    result = run_cli("build", "--quiet", "--base-url", "https://example.github.io/repo/",
                     "--output", output)
    assert result.returncode == 0, result.stderr
    return output


@pytest.fixture(scope="session")
def site_url(built_under_subpath: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[str]:
    """The subpath build served on 127.0.0.1 at /repo/, as GitHub Pages serves a project."""
    root = tmp_path_factory.mktemp("served")
    shutil.copytree(built_under_subpath, root / "repo")
    with serve(root) as url:
        yield url + "repo/"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
