"""Parallel Markdown and template rendering give exactly the serial bytes."""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
from pathlib import Path

import pytest

import digest.cache
import digest.content
import digest.render
import digest.search.indexer
from digest.build import build
from digest.config import load_config
from digest.markup import RenderedMarkdown, render_markdown
from tests.test_safety import snapshot


def build_to(root: Path, output: Path, cache: str = "") -> dict[str, bytes]:
    config = load_config(root, {"output_dir": str(output), "cache_dir": cache})
    result = build(config)
    assert result.files > 50
    return snapshot(output)


def test_worker_processes_produce_identical_output(tmp_path: Path, example_site: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    serial = build_to(example_site, tmp_path / "serial")
    monkeypatch.setattr(digest.content, "PARALLEL_THRESHOLD", 2)
    monkeypatch.setattr(digest.content, "CHUNK", 2)  # many chunks, collected in order
    monkeypatch.setattr(digest.render, "PARALLEL_THRESHOLD", 2)
    # the search index made a document a span, the spans joined in order
    monkeypatch.setattr(digest.search.indexer, "PARALLEL_THRESHOLD", 2)
    monkeypatch.setattr(digest.search.indexer, "SPANS", 1_000)
    calls: list[int] = []
    from digest.collector import forked_executor as real_executor

    def counting_executor(workers: int) -> object:
        calls.append(workers)
        return real_executor(2)

    monkeypatch.setattr(digest.content, "forked_executor", counting_executor)
    parallel = build_to(example_site, tmp_path / "parallel")
    assert calls, "the parallel parsing path must have run"
    assert parallel == serial
    # Workers that find bodies in the Markdown store (the build state gone, the store
    # kept) and workers that render and store them give the same site; what they store
    # does not travel to this process (cache.store_in) unless they cannot store it.
    cache = tmp_path / "cache"
    handed: list[int] = []
    real_add = digest.cache.MarkdownCache.add

    def counting_add(self: digest.cache.MarkdownCache, keys: object,
                     fresh: dict[str, RenderedMarkdown]) -> None:
        handed.append(len(fresh))
        real_add(self, keys, fresh)  # type: ignore[arg-type]

    monkeypatch.setattr(digest.cache.MarkdownCache, "add", counting_add)
    assert build_to(example_site, tmp_path / "stored", str(cache)) == serial
    assert handed and not any(handed), "the workers stored the bodies themselves"
    with monkeypatch.context() as patched:
        patched.setattr(digest.content, "store_in", lambda folder, fresh: False)
        handed.clear()
        assert build_to(example_site, tmp_path / "handed", str(tmp_path / "c2")) == serial
        assert sum(handed) >= 10, "bodies a worker could not store come back"
    with sqlite3.connect(tmp_path / "c2" / digest.cache.FILE_NAME) as db:
        assert db.execute("SELECT count(*) FROM markdown").fetchone()[0] == sum(handed)
    db.close()
    shutil.rmtree(cache / "build")
    rendered = tmp_path / "rendered.log"  # appended to by the forked workers

    def logged_render(text: str) -> RenderedMarkdown:
        with rendered.open("a") as log:
            log.write("body\n")
        return render_markdown(text)

    monkeypatch.setattr(digest.content, "render_markdown", logged_render)
    assert build_to(example_site, tmp_path / "stored-again", str(cache)) == serial
    assert len(calls) == 4  # (parallel, stored, handed back, stored again)
    assert not rendered.exists(), "every body came from the store"


def test_a_template_error_in_the_workers_fails_the_build_and_keeps_the_site(
        tmp_path: Path, example_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages render in workers that write them; a template that fails there is still a
    diagnostic, after which nothing of the half-made site is used."""
    from digest.errors import BuildError

    output = tmp_path / "site"
    before = build_to(example_site, output)
    monkeypatch.setattr(digest.render, "PARALLEL_THRESHOLD", 2)
    # the search index's workers are still at work when rendering fails: they are stopped
    monkeypatch.setattr(digest.search.indexer, "PARALLEL_THRESHOLD", 2)
    (example_site / "templates").mkdir(exist_ok=True)
    (example_site / "templates/article.html").write_text("{{ page.missing.deeper }}\n")
    with pytest.raises(BuildError) as raised:
        build(load_config(example_site, {"output_dir": str(output), "cache_dir": ""}))
    assert [d.path for d in raised.value.diagnostics] == ["templates/article.html"]
    assert snapshot(output) == before
    assert not multiprocessing.active_children(), "no worker outlives the failed build"
    assert not list(tmp_path.glob(".site.tmp-*")), "the staging folder is gone"



def _sigterm_handler(_: int = 0) -> str:
    import signal
    return repr(signal.getsignal(signal.SIGTERM))


def _serves_handler(number: int, frame: object) -> None:
    raise KeyboardInterrupt  # (as serve.stop_on_signal)


def test_forked_workers_and_children_end_on_sigterm_whatever_their_parent_handles() -> None:
    """serve handles SIGTERM (it stops as Ctrl-C does). A pool stops its workers with
    SIGTERM when the queue they wait on is locked, and a worker of serve's first build
    at 10k that kept serve's handler waited for that queue forever, and serve with it:
    workers and forked children take SIGTERM's default again."""
    import os
    import signal

    from digest.collector import fork, forked_executor, forked_pool

    previous = signal.signal(signal.SIGTERM, _serves_handler)
    try:
        assert _sigterm_handler() != repr(signal.SIG_DFL)  # (what a child inherits)
        with forked_pool() as pool:
            assert set(pool.map(_sigterm_handler, range(4))) == {repr(signal.SIG_DFL)}
        with forked_executor(2) as executor:
            assert set(executor.map(_sigterm_handler, range(4))) == {repr(signal.SIG_DFL)}
        readable, writable = os.pipe()
        pid = fork()
        if pid == 0:  # the child
            os.write(writable, _sigterm_handler().encode())
            os._exit(0)
        assert pid is not None
        os.close(writable)
        os.waitpid(pid, 0)
        assert os.read(readable, 200).decode() == repr(signal.SIG_DFL)
        os.close(readable)
    finally:
        signal.signal(signal.SIGTERM, previous)
