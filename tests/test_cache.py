"""The Markdown cache: a rebuild renders only changed bodies; a broken cache is ignored."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from digest.cache import FILE_NAME, render_cached
from digest.markup import RenderedMarkdown, render_markdown
from tests.conftest import RunDigest
from tests.test_safety import snapshot


class CountingRenderer:
    def __init__(self) -> None:
        self.rendered: list[str] = []

    def __call__(self, bodies: Sequence[str]) -> list[RenderedMarkdown]:
        self.rendered.extend(bodies)
        return [render_markdown(body) for body in bodies]


def test_only_new_or_changed_bodies_are_rendered(tmp_path: Path) -> None:
    first = CountingRenderer()
    result = render_cached(tmp_path, ["# A", "b", "b"], first)
    assert first.rendered == ["# A", "b"], "a body repeated in one batch renders once"
    again = CountingRenderer()
    assert render_cached(tmp_path, ["# A", "c", "b"], again) == [
        result[0], render_markdown("c"), result[1]]
    assert again.rendered == ["c"]


def test_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"not a database")
    renderer = CountingRenderer()
    assert render_cached(tmp_path, ["x"], renderer) == [render_markdown("x")]
    assert renderer.rendered == ["x"]


def test_cached_rebuild_is_byte_identical(digest: RunDigest, example_site: Path) -> None:
    assert digest("build", "-q", cwd=example_site).returncode == 0
    first = snapshot(example_site / "site")
    assert (example_site / ".digest-cache" / FILE_NAME).stat().st_size > 0
    assert digest("build", "-q", cwd=example_site).returncode == 0
    assert snapshot(example_site / "site") == first


def test_compiled_templates_are_kept_and_follow_their_source(digest: RunDigest,
                                                               example_site: Path) -> None:
    """Jinja2's bytecode of every template goes to the cache folder; an edited template
    is compiled again (the bytecode is keyed by its source), never served stale."""
    assert digest("build", "-q", cwd=example_site).returncode == 0
    kept = example_site / ".digest-cache" / "templates"
    compiled = sorted(kept.iterdir())
    assert len(compiled) >= 5, "article, topic, company, list and feed templates at least"
    theme_about = (Path(__file__).parent.parent / "templates" / "base.html").read_text()
    (example_site / "templates").mkdir(exist_ok=True)
    (example_site / "templates" / "base.html").write_text(
        theme_about.replace("</body>", "<p>edited base</p></body>", 1))
    assert digest("build", "-q", cwd=example_site).returncode == 0
    assert "<p>edited base</p>" in (example_site / "site" / "index.html").read_text()
    assert sorted(kept.iterdir()) != compiled, "the edited template's bytecode was added"
