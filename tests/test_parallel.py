"""Parallel Markdown and template rendering give exactly the serial bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

import digest.content
import digest.render
from digest.build import build
from digest.config import load_config
from tests.test_safety import snapshot


def build_to(root: Path, output: Path) -> dict[str, bytes]:
    config = load_config(root, {"output_dir": str(output), "cache_dir": ""})
    result = build(config)
    assert result.files > 50
    return snapshot(output)


def test_worker_processes_produce_identical_output(tmp_path: Path, example_site: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    serial = build_to(example_site, tmp_path / "serial")
    monkeypatch.setattr(digest.content, "PARALLEL_THRESHOLD", 2)
    monkeypatch.setattr(digest.render, "PARALLEL_THRESHOLD", 2)
    calls: list[int] = []
    from concurrent.futures import ProcessPoolExecutor as real_pool

    def counting_pool() -> object:
        calls.append(1)
        return real_pool(max_workers=2)

    monkeypatch.setattr(digest.content, "ProcessPoolExecutor", counting_pool)
    parallel = build_to(example_site, tmp_path / "parallel")
    assert calls, "the parallel Markdown path must have run"
    assert parallel == serial
