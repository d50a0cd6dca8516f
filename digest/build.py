"""Orchestration: load → model → render → write. Nothing is written until everything
loaded and rendered cleanly, and the output folder is replaced in one swap, so a failed
or interrupted build leaves the previous site untouched."""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from digest.config import Config
from digest.content import load_content
from digest.errors import BuildError, Diagnostic, Diagnostics, UsageError
from digest.model import Site, build_site
from digest.render import Progress, default_theme_path, list_outputs, render_outputs
from digest.search.indexer import IndexLimitError, build_index
from digest.urls import Urls, output_file


@dataclass
class BuildResult:
    site: Site
    pages: Counter[str]
    files: int
    seconds: float
    warnings: list[Diagnostic] = field(default_factory=list)
    output: Path | None = None


def load(config: Config, diagnostics: Diagnostics, include_drafts: bool = False) -> Site:
    """Read and validate everything; raise BuildError carrying every problem found."""
    urls = Urls(config.base_url)
    content = load_content(config, urls.base_path, diagnostics)
    site = build_site(content, config, diagnostics, include_drafts)
    if diagnostics.errors:
        raise BuildError(diagnostics)
    return site


def static_files(config: Config) -> dict[str, Path]:
    """static/ of the default theme, overridden file by file by the site's templates/static/."""
    files: dict[str, Path] = {}
    for folder in (default_theme_path() / "static", config.templates_path / "static"):
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    files["static/" + path.relative_to(folder).as_posix()] = path
    return files


def check_output_folder(config: Config) -> Path:
    """Refuse an output folder that is, contains, or lies inside the editors' sources:
    the swap replaces the whole folder, so it must hold nothing but built files."""
    output = config.output_path
    refusal = None
    for protected, what in ((config.root, "the project folder"),
                            (config.content_path, "the content folder"),
                            (config.templates_path, "the templates folder")):
        protected = protected.resolve()
        if protected.is_relative_to(output):
            refusal = f"it is or contains {what}"
        elif what != "the project folder" and output.is_relative_to(protected):
            refusal = f"it is inside {what}"
        if refusal:
            raise UsageError([Diagnostic(
                "pyproject.toml", 0, 0, f"refusing to build into '{output}': {refusal}",
                hint="set [tool.digest] output_dir (or --output) to a folder of its own, "
                     "such as 'site'")])
    if output.exists() and not output.is_dir():
        raise UsageError([Diagnostic(str(output), 0, 0, "output path exists and is not a folder",
                                     hint="remove the file or choose another output_dir")])
    return output


def build(config: Config, *, write: bool = True, include_drafts: bool = False,
          progress: Progress | None = None) -> BuildResult:
    started = time.perf_counter()
    output = check_output_folder(config) if write else None
    diagnostics = Diagnostics()
    site = load(config, diagnostics, include_drafts)
    outputs = list_outputs(site)
    rendered = render_outputs(site, Urls(config.base_url), outputs, diagnostics, progress)
    if diagnostics.errors:
        raise BuildError(diagnostics)
    files: dict[str, bytes | Path] = {output_file(o.site_path): data
                                      for o, data in zip(outputs, rendered, strict=True)}
    files.update(static_files(config))
    if config.search:
        try:
            files.update(build_index(site))
        except IndexLimitError as error:
            raise BuildError([Diagnostic(config.content_dir, 0, 0, str(error),
                                         hint="spread the articles over more days")]) from None
    if output is not None:
        write_atomically(output, files)
    return BuildResult(site, Counter(o.kind for o in outputs), len(files),
                       time.perf_counter() - started,
                       sorted(diagnostics.warnings, key=Diagnostic.sort_key), output)


def write_atomically(output: Path, files: dict[str, bytes | Path]) -> None:
    """Write into a sibling temporary folder, then swap it in place of `output`.

    A file whose bytes equal the previous build's is hard-linked from it rather than
    written again: unchanged pages and index shards keep their inode and mtime, so a
    rebuild after one edit really touches only the files that changed."""
    parent = output.parent
    parent.mkdir(parents=True, exist_ok=True)
    # Leftovers of an interrupted earlier build carry our prefix; nothing else is removed.
    for stale in parent.glob(f".{output.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    staging = parent / f".{output.name}.tmp-{os.getpid()}"
    retired = parent / f".{output.name}.old-{os.getpid()}"
    previous = output if output.is_dir() else None
    try:
        for relative, data in sorted(files.items()):
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, Path):
                data = data.read_bytes()
            if previous is None or not link_if_unchanged(previous / relative, data, target):
                target.write_bytes(data)
        if output.exists():
            output.rename(retired)
        try:
            staging.rename(output)
        except OSError:
            if retired.exists():
                retired.rename(output)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)


def link_if_unchanged(old: Path, data: bytes, target: Path) -> bool:
    try:
        if old.stat().st_size != len(data) or old.read_bytes() != data:
            return False
        os.link(old, target)
    except OSError:  # missing, or a file system without hard links: just write
        return False
    return True
