"""Golden site: the fixture in tests/golden/site builds to exactly tests/golden/expected.

After an intended change of output, run `make golden` and review the diff.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from digest.output import MARKER
from tests.conftest import GOLDEN, RunDigest


def files_below(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_golden_site_matches_checked_in_output(digest: RunDigest, tmp_path: Path) -> None:
    output = tmp_path / "site"
    result = digest("build", "--quiet", "--root", GOLDEN / "site", "--output", output)
    assert result.returncode == 0, result.stderr
    built, expected = files_below(output), files_below(GOLDEN / "expected")
    # theme assets are verbatim copies; the marker changes with digest's own code
    built = {name: data for name, data in built.items()
             if not name.startswith("static/") and name != MARKER}
    assert sorted(built) == sorted(expected), "file set differs; run `make golden` if intended"
    for name, data in expected.items():
        if built[name] != data:
            diff = "\n".join(difflib.unified_diff(
                data.decode().splitlines(), built[name].decode().splitlines(),
                f"expected/{name}", f"built/{name}", lineterm="", n=2))
            raise AssertionError(f"{name} differs (run `make golden` if intended):\n{diff}")


def test_golden_build_reports_unknown_company_once(digest: RunDigest, tmp_path: Path) -> None:
    result = digest("build", "--root", GOLDEN / "site", "--output", tmp_path / "site")
    assert result.stderr.count("company 'Widget Co' is not in the registry") == 1
    assert "content/articles/2024/widget.md:7:13: warning:" in result.stderr
    assert "held back 1 draft(s)" in result.stdout
