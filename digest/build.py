"""Orchestration: load → model → render → write. Nothing is written until everything
loaded and rendered cleanly, and the output folder is replaced in one swap, so a failed
or interrupted build leaves the previous site untouched."""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from digest.config import Config
from digest.content import load_content
from digest.errors import BuildError, Diagnostic, Diagnostics, UsageError
from digest.links import FILES_PREFIX, rewrite_links
from digest.model import Selection, Site, build_site
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
    paths: set[str] = field(default_factory=set)  # every file of the site, relative


def current_time(environ: Mapping[str, str] = os.environ) -> datetime:
    """Now, or the moment SOURCE_DATE_EPOCH fixes (reproducible-builds.org convention)."""
    epoch = environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return datetime.now(UTC)
    try:
        return datetime.fromtimestamp(int(epoch), UTC)
    except (ValueError, OverflowError, OSError):
        raise UsageError([Diagnostic("SOURCE_DATE_EPOCH", 0, 0,
                                     f"SOURCE_DATE_EPOCH must be whole seconds, got '{epoch}'",
                                     hint="e.g. SOURCE_DATE_EPOCH=$(date +%s)")]) from None


def load(config: Config, diagnostics: Diagnostics, selection: Selection | None = None) -> Site:
    """Read and validate everything; raise BuildError carrying every problem found."""
    urls = Urls(config.base_url)
    content = load_content(config, urls.base_path, diagnostics)
    site = build_site(content, config, diagnostics, selection or Selection(current_time()))
    rewrite_links(site, urls)
    if diagnostics.errors:
        raise BuildError(diagnostics)
    return site


def static_files(config: Config) -> dict[str, Path]:
    """Files published as they are: the theme's static/ (overridden file by file by the
    site's templates/static/), content/static/ at the site root, and the images and other
    files kept beside articles, under files/."""
    files: dict[str, Path] = {}
    folders = [(default_theme_path() / "static", "static/"),
               (config.templates_path / "static", "static/"),
               (config.content_path / "static", ""),
               (config.content_path / "articles", FILES_PREFIX)]
    for folder, prefix in folders:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                relative = path.relative_to(folder)
                if path.is_file() and path.suffix != ".md" \
                        and not any(p.startswith(".") for p in relative.parts):
                    files[prefix + relative.as_posix()] = path
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


def build(config: Config, *, write: bool = True, selection: Selection | None = None,
          progress: Progress | None = None) -> BuildResult:
    started = time.perf_counter()
    output = check_output_folder(config) if write else None
    diagnostics = Diagnostics()
    site = load(config, diagnostics, selection)
    outputs = list_outputs(site, Urls(config.base_url))
    with Staging(output) as staging:
        for page, data in render_outputs(site, Urls(config.base_url), outputs, diagnostics,
                                         progress):
            staging.write(output_file(page.site_path), data)
        if diagnostics.errors:
            raise BuildError(diagnostics)
        for relative, path in static_files(config).items():
            staging.write(relative, path.read_bytes())
        # GitHub Pages: serve files as they are (no Jekyll), on a custom domain if set.
        staging.write(".nojekyll", b"")
        if config.cname:
            staging.write("CNAME", config.cname.encode() + b"\n")
        if config.search:
            try:
                for relative, data in build_index(site).items():
                    staging.write(relative, data)
            except IndexLimitError as error:
                raise BuildError([Diagnostic(config.content_dir, 0, 0, str(error),
                                             hint="spread the articles over more days")]
                                 ) from None
        staging.commit()
    return BuildResult(site, Counter(o.kind for o in outputs), staging.files,
                       time.perf_counter() - started,
                       sorted(diagnostics.warnings, key=Diagnostic.sort_key), output,
                       staging.paths)


class Staging:
    """Files go into a sibling temporary folder; `commit` swaps it in place of the output
    folder. Leaving the block without committing (an error, Ctrl-C) removes the staging
    folder and leaves the previous site exactly as it was. With no output folder
    (`digest check`) files are only counted.

    A file whose bytes equal the previous build's is hard-linked from it rather than
    written again: unchanged pages and index shards keep their inode and mtime, so a
    rebuild after one edit really touches only the files that changed."""

    def __init__(self, output: Path | None) -> None:
        self.output = output
        self.paths: set[str] = set()
        self.previous: Path | None = None
        self.staging = self.retired = Path()
        if output is not None:
            self.previous = output if output.is_dir() else None
            self.staging = output.parent / f".{output.name}.tmp-{os.getpid()}"
            self.retired = output.parent / f".{output.name}.old-{os.getpid()}"

    def __enter__(self) -> Staging:
        if self.output is not None:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            # Leftovers of a killed earlier build carry our prefix; nothing else is removed.
            for stale in self.output.parent.glob(f".{self.output.name}.tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)
            self.staging.mkdir()
        return self

    @property
    def files(self) -> int:
        return len(self.paths)

    def write(self, relative: str, data: bytes) -> None:
        self.paths.add(relative)
        if self.output is None:
            return
        target = self.staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.previous is None or not link_if_unchanged(self.previous / relative, data,
                                                          target):
            target.write_bytes(data)

    def commit(self) -> None:
        if self.output is None:
            return
        if self.output.exists():
            self.output.rename(self.retired)
        try:
            self.staging.rename(self.output)
        except OSError:
            if self.retired.exists():
                self.retired.rename(self.output)
            raise

    def __exit__(self, *exc_info: object) -> None:
        if self.output is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            shutil.rmtree(self.retired, ignore_errors=True)


def write_atomically(output: Path, files: dict[str, bytes | Path]) -> None:
    """Write a whole set of files as one swap (used by tests and small tools)."""
    with Staging(output) as staging:
        for relative, data in sorted(files.items()):
            staging.write(relative, data.read_bytes() if isinstance(data, Path) else data)
        staging.commit()


def link_if_unchanged(old: Path, data: bytes, target: Path) -> bool:
    try:
        if old.stat().st_size != len(data) or old.read_bytes() != data:
            return False
        os.link(old, target)
    except OSError:  # missing, or a file system without hard links: just write
        return False
    return True
