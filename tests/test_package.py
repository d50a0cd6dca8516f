"""The installed package carries the default theme: `digest build` works in any folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO


def test_wheel_builds_example_content_in_a_bare_folder(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", wheels, REPO],
                   check=True, capture_output=True, timeout=300)
    wheel = next(wheels.glob("digest-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "digest/theme/article.html" in names and "digest/theme/static/style.css" in names

    installed = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", installed, wheel], check=True, capture_output=True, timeout=300)
    project = tmp_path / "project"
    shutil.copytree(REPO / "content", project / "content")  # nothing else: no templates
    # PYTHONPATH puts the installed copy first, ahead of any editable checkout.
    env = {**os.environ, "PYTHONPATH": str(installed)}
    probe = subprocess.run([sys.executable, "-c", "import digest; print(digest.__file__)"],
                           cwd=project, env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.startswith(str(installed))
    result = subprocess.run([sys.executable, "-m", "digest", "build"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (project / "site/companies/alibaba/index.html").is_file()
    assert (project / "site/static/style.css").is_file()
