"""Outside judges of built pages: the Nu HTML checker (vnu.jar, run by Java) and axe-core
(injected into a page in Chromium). `make validators` installs both, pinned, into .tools/.
Each helper returns a list of findings, so a test asserts that list is empty; a missing tool
raises, so a test fails loudly rather than skipping."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from playwright.sync_api import Page

from tests.conftest import REPO

TOOLS = REPO / ".tools" / "node_modules"
VNU_JAR = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = TOOLS / "axe-core" / "axe.min.js"

# WCAG 2.0, 2.1 and 2.2 at levels A and AA (axe 4.14 has no wcag22a tag), and axe's own
# best practices. Experimental rules stay off.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
AXE_TARGETS_SHOWN = 3


class ValidatorMissing(RuntimeError):
    """A validator is not installed: `make validators` installs it."""


def _installed(path: Path) -> Path:
    if not path.is_file():
        raise ValidatorMissing(f"{path} is missing: `make validators` installs it")
    return path


def nu_messages(files: Sequence[Path], *, root: Path | None = None) -> list[str]:
    """Every error and warning the Nu checker finds in `files`, as "file:line: type: message",
    in one Java run (the JVM's start is most of the cost). Files show relative to `root`
    when given. Nu's plain info messages are left out; an empty list means Nu found nothing."""
    if not files:
        return []
    java = shutil.which("java")
    if java is None:
        raise ValidatorMissing("java is missing: `make validators` installs a Java runtime")
    jar = _installed(VNU_JAR)
    missing = [str(file) for file in files if not Path(file).is_file()]
    if missing:  # Nu reports nothing at all for a file that is not there
        raise FileNotFoundError(f"no such files to check: {missing}")
    result = subprocess.run(
        [java, "-jar", str(jar), "--format", "json", "--stdout", "--skip-info-messages",
         "--exit-zero-always", *map(str, files)],
        capture_output=True, encoding="utf-8", timeout=600, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the Nu checker failed ({result.returncode}): {result.stderr}")
    messages: list[dict[str, Any]] = json.loads(result.stdout)["messages"]
    shown = {Path(file).resolve(): _shown(Path(file), root) for file in files}
    found = []
    for message in messages:
        kind = message.get("type", "?")
        if kind == "info":
            if message.get("subType") != "warning":
                continue
            kind = "warning"
        elif message.get("subType") == "fatal":
            kind = "fatal error"
        path = Path(unquote(urlparse(message.get("url", "")).path)).resolve()
        where = shown.get(path, message.get("url", "?"))
        line = message.get("firstLine", message.get("lastLine"))
        if line is not None:
            where = f"{where}:{line}"
        found.append(f"{where}: {kind}: {message.get('message', '')}")
    return found


def _shown(file: Path, root: Path | None) -> str:
    if root is not None and file.resolve().is_relative_to(root.resolve()):
        return file.resolve().relative_to(root.resolve()).as_posix()
    return str(file)


AXE_RUN = """
async tags => {
  const results = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                           resultTypes: ['violations']});
  const selector = target => target.map(
      part => Array.isArray(part) ? part.join(' >>> ') : part).join(' | ');
  return results.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       targets: v.nodes.map(node => selector(node.target))}));
}
"""


def axe_violations(page: Page) -> list[str]:
    """Every axe-core violation on the page as loaded (WCAG 2.x A and AA, and best practice),
    as "id (impact): help: targets", with the first few target selectors."""
    page.add_script_tag(path=_installed(AXE_JS))
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN, AXE_TAGS)
    found = []
    for violation in violations:
        targets: list[str] = violation["targets"]
        shown = ", ".join(targets[:AXE_TARGETS_SHOWN])
        if len(targets) > AXE_TARGETS_SHOWN:
            shown += f" and {len(targets) - AXE_TARGETS_SHOWN} more"
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']}: {shown}")
    return found
