"""The scan of a CLI build's inputs, made by a forked child while the CLI imports.

The scan (state.scan_build: a stat of every input, 0.1–0.3 s at 10,000 articles on the
team's machine) mostly waits on the kernel; what a build imports (0.2 s: argparse, digest's
modules, Jinja2) is mostly Python. The child is forked as soon as the settings are
read, before the CLI imports even the state module, and hands the scan back through a
pipe, marshalled (3 ms at 10,000 inputs). This module imports nothing heavy: forking
is the first thing a build does.
"""

from __future__ import annotations

import marshal
from pathlib import Path
from typing import TYPE_CHECKING

from digest.collector import ForkedWork

if TYPE_CHECKING:
    from digest.config import Config
    from digest.state import Scan


class ScanChild:
    """`state.scan_build` in a forked child; should the child fail, `scan` scans here."""

    def __init__(self, child: ForkedWork, config: Config, theme: Path,
                 include_drafts: bool, include_future: bool) -> None:
        self.child = child
        self.arguments = (config, theme, include_drafts, include_future)

    @classmethod
    def start(cls, config: Config, theme: Path, include_drafts: bool,
              include_future: bool) -> ScanChild | None:
        """The child scanning, or None where none can be forked."""
        def scanned() -> bytes:
            from digest.state import scan_build
            scan = scan_build(config, theme, include_drafts, include_future)
            return marshal.dumps((scan.settings, scan.inputs, scan.scanned_ns, scan.racy,
                                  scan.hashes, scan.lists_content))
        child = ForkedWork.start(scanned)
        return cls(child, config, theme, include_drafts, include_future) if child else None

    def done(self) -> bool:
        """Whether the scan is there to be read (`scan` would not wait)."""
        return self.child.done()

    def scan(self) -> Scan:
        """The child's scan, waited for."""
        from digest.state import Scan, scan_build
        data = self.child.result()
        if data is not None:
            try:
                return Scan(*marshal.loads(data))
            except (ValueError, EOFError, TypeError):
                pass
        return scan_build(*self.arguments)
