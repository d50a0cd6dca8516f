"""Regenerate checked-in expected output: `make golden` (or `python -m tests.regenerate`).

Every change of output then shows up as a reviewable diff (Pelican's golden-site habit).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from digest.output import MARKER
from tests.conftest import GOLDEN, INVALID, run_cli


def regenerate_golden() -> None:
    expected = GOLDEN / "expected"
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "site"
        result = run_cli("build", "--quiet", "--root", GOLDEN / "site", "--output", output)
        if result.returncode != 0:
            sys.exit(f"golden site failed to build:\n{result.stderr}")
        shutil.rmtree(expected, ignore_errors=True)
        # Theme assets are copied verbatim; the golden site covers what digest generates.
        shutil.copytree(output, expected, ignore=lambda folder, names:
                        ["static", MARKER] if Path(folder) == output else [])
    print(f"wrote {expected.relative_to(GOLDEN.parent.parent)}")


def regenerate_invalid() -> None:
    for case in sorted(path for path in INVALID.iterdir() if path.is_dir()):
        with tempfile.TemporaryDirectory() as scratch:
            result = run_cli("build", "--root", case, "--output", Path(scratch) / "site")
        (case / "expected.txt").write_text(f"exit {result.returncode}\n{result.stderr}",
                                           encoding="utf-8")
        print(f"wrote {case.name}/expected.txt (exit {result.returncode})")


if __name__ == "__main__":
    regenerate_golden()
    regenerate_invalid()
