"""`digest serve` in a real browser: live reload, the error overlay, refused paths."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.conftest import REPO

ARTICLE = """---
title: {title}
slug: live-article
date: 2024-02-02
tags: [cloud]
---
Body of the live article.
"""


@pytest.fixture
def served(example_site: Path) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    article = example_site / "content/articles/2024/live.md"
    article.write_text(ARTICLE.format(title="First title"), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", "--port", "0"], cwd=example_site,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "serving http://127.0.0.1:PORT/ (Ctrl-C stops)"
        assert line.startswith("serving http://127.0.0.1:"), line
        yield line.split()[1], article, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_edit_reloads_errors_overlay_and_recovery(
        served: tuple[str, Path, subprocess.Popen[str]], example_site: Path,
        browser: Browser) -> None:
    address, article, process = served
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(address + "2024/02/live-article/")
        heading = page.locator("article h1")
        assert heading.text_content() == "First title"
        page.wait_for_timeout(300)  # the event stream connects

        started = time.monotonic()
        article.write_text(ARTICLE.format(title="Second title"), encoding="utf-8")
        page.wait_for_function(
            "document.querySelector('article h1')?.textContent === 'Second title'",
            timeout=3000)
        assert time.monotonic() - started < 3

        article.write_text(ARTICLE.format(title="[broken"), encoding="utf-8")
        overlay = page.locator("#digest-error-overlay")
        overlay.wait_for(state="visible", timeout=3000)
        assert "content/articles/2024/live.md:3:5: error: invalid YAML" in (
            overlay.text_content() or "")
        assert process.poll() is None, "the server keeps running"

        article.write_text(ARTICLE.format(title="Third title"), encoding="utf-8")
        page.wait_for_function(
            "document.querySelector('article h1')?.textContent === 'Third title'",
            timeout=3000)
        assert page.locator("#digest-error-overlay").count() == 0
    finally:
        context.close()

    host, port = address.removeprefix("http://").strip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.request("GET", "/../../etc/passwd")
    assert connection.getresponse().status == 403
    connection.close()
    assert not (example_site / "site").exists(), "serve never writes site/"

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0
    assert process.stdout is not None and "stopped" in process.stdout.read()
    # every save after the first build was an incremental rebuild
    assert process.stderr is not None
    builds = [tuple(map(int, match)) for match in re.findall(
        r"\((\d+) of (\d+) pages rendered\)", process.stderr.read())]
    assert len(builds) >= 3, builds
    assert builds[0][0] == builds[0][1], "the first build renders everything"
    assert all(rendered < total / 2 for rendered, total in builds[1:]), builds
    assert not list((example_site / ".digest-cache/build").glob("*")), "no state left over"
