"""Invalid sites: each case folder holds one kind of bad input and its exact diagnostics.

`expected.txt` is `exit N` followed by the exact stderr; `make golden` regenerates them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import INVALID, RunDigest

CASES = sorted(path.name for path in INVALID.iterdir() if path.is_dir())


def test_there_are_at_least_twelve_kinds_of_bad_input() -> None:
    failing = [c for c in CASES
               if (INVALID / c / "expected.txt").read_text(encoding="utf-8").startswith("exit 1")]
    assert len(failing) >= 12


@pytest.mark.parametrize("case", CASES)
def test_invalid_site_reports_exact_diagnostics(case: str, digest: RunDigest,
                                                tmp_path: Path) -> None:
    output = tmp_path / "site"
    result = digest("build", "--root", INVALID / case, "--output", output)
    expected = (INVALID / case / "expected.txt").read_text(encoding="utf-8")
    assert f"exit {result.returncode}\n{result.stderr}" == expected
    assert "Traceback" not in result.stderr
    if result.returncode:
        assert not output.exists(), "a failed build must write nothing"


def test_check_reports_the_same_without_writing(digest: RunDigest) -> None:
    result = digest("check", "--root", INVALID / "many-errors")
    assert result.returncode == 1
    assert result.stderr.count(": error: ") == 3
