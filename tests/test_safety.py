"""Nothing is lost: failed builds keep the previous site; unsafe output folders are refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from digest.output import write_atomically
from tests.conftest import RunDigest


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_failed_build_leaves_previous_site_untouched(digest: RunDigest,
                                                     example_site: Path) -> None:
    assert digest("build", "--quiet", cwd=example_site).returncode == 0
    before = snapshot(example_site / "site")
    article = next((example_site / "content/articles").rglob("*.md"))
    article.write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    result = digest("build", cwd=example_site)
    assert result.returncode == 1
    assert "invalid YAML" in result.stderr and "nothing was written" in result.stderr
    assert snapshot(example_site / "site") == before
    assert sorted(p.name for p in example_site.iterdir()) == [
        ".digest-cache", "content", "pyproject.toml", "site"]


def test_interrupted_write_keeps_previous_site(tmp_path: Path) -> None:
    output = tmp_path / "site"
    write_atomically(output, {"index.html": b"old"})
    with pytest.raises(FileNotFoundError):
        # a source file vanishing mid-write stands for any failure while writing
        write_atomically(output, {"a.html": b"new", "z.css": tmp_path / "missing.css"})
    assert snapshot(output) == {"index.html": b"old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"], "no staging left behind"


def test_stale_staging_folder_from_a_killed_build_is_cleaned(tmp_path: Path) -> None:
    stale = tmp_path / f".site.tmp-{os.getpid() + 1}"
    (stale / "x").mkdir(parents=True)
    write_atomically(tmp_path / "site", {"index.html": b"new"})
    assert not stale.exists()
    assert snapshot(tmp_path / "site") == {"index.html": b"new"}


@pytest.mark.parametrize("output", [".", "..", "content", "content/articles", "templates",
                                    "templates/out"])
def test_refuses_output_folder_that_holds_the_project(digest: RunDigest, example_site: Path,
                                                      output: str) -> None:
    (example_site / "templates").mkdir()
    before = snapshot(example_site)
    result = digest("build", "--output", output, cwd=example_site)
    assert result.returncode == 2
    assert "refusing to build into" in result.stderr
    assert snapshot(example_site) == before


def test_usage_errors_exit_2(digest: RunDigest) -> None:
    assert digest("build", "--no-such-flag").returncode == 2
    assert digest().returncode == 2
