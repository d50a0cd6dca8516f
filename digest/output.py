"""Writing the site. The output folder is only ever replaced whole, in one atomic step
(renameat2 RENAME_EXCHANGE on Linux), so a failed or interrupted build leaves the
previous site as it was.

Two ways to make the new site, both ending in that exchange:
- `Staging`: every file goes into a fresh sibling folder (unchanged ones hard-linked
  from the current site). Used for clean builds.
- `TwinUpdate`: the sibling `.site.twin` holds the site before the current one. An
  incremental build brings it up to date by touching only the files that differ (those
  the last build changed, and those this build changes), then exchanges it with the
  current site, which becomes the next twin. Cost: proportional to the change.

Files in the twin are never modified in place: they may share an inode with the live
site, so each is replaced by a rename.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import os
import shutil
import stat
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from digest.config import Config
from digest.errors import BuildError, Diagnostic, UsageError

# Written into every built site: what the build state says this folder holds. A build
# reuses files of an output folder only when its marker matches its state, so a folder
# restored together with the cache folder (the Pages workflow) is built incrementally.
MARKER = ".digest-build"

AT_FDCWD = -100
RENAME_EXCHANGE = 2


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
    if output.is_symlink():
        refuse(output, "it is a symbolic link (the build replaces the folder, it would "
               "replace the link's target)", "point output_dir (or --output) at a real folder")
    if output.exists() and not output.is_dir():
        raise UsageError([Diagnostic(str(output), 0, 0, "output path exists and is not a folder",
                                     hint="remove the file or choose another output_dir")])
    if output.is_dir() and not (output / MARKER).is_file() and any(output.iterdir()):
        # Only a folder digest built (it has the marker) or an empty one is replaced:
        # `--output .git` or `--output ../other` must never wipe what is there.
        refuse(output, f"it holds files that digest did not build (no {MARKER} in it)",
               "choose an empty or new folder, or move those files away yourself")
    return output


def refuse(output: Path, reason: str, hint: str) -> NoReturn:
    raise UsageError([Diagnostic("pyproject.toml", 0, 0,
                                 f"refusing to build into '{output}': {reason}", hint=hint)])


@contextmanager
def exclusive(output: Path) -> Iterator[None]:
    """One build at a time per output folder: a second one would take the first's
    staging folder for a leftover of a killed build and publish an incomplete site.
    The lock is an flock on the folder that holds the output (where the staging folders
    are made): no lock file is left in the project, and the lock ends with the process,
    so a killed build never leaves it held."""
    output.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(output.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildError([Diagnostic(str(output), 0, 0,
                                         "another digest build is writing this folder",
                                         hint="wait for it to finish, then build again")]
                             ) from None
        yield
    finally:
        os.close(descriptor)


def exchange(first: Path, second: Path) -> None:
    """Swap two folders atomically: each name then points at the other's contents."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        renameat2 = None
    if renameat2 is not None:
        if renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second),
                     RENAME_EXCHANGE) == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise OSError(code, os.strerror(code), str(second))
    # No atomic exchange here (another OS, or a file system without it): three renames.
    parked = second.with_name(second.name + ".exchange")
    second.rename(parked)
    first.rename(second)
    parked.rename(first)


def read_marker(output: Path) -> str:
    try:
        return (output / MARKER).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""


# The marker is a sum of one term per file, so that a build changing a few files updates
# it by those alone (express.py), where a digest of the sorted list needs every file.
MARKER_MODULUS = 1 << 128


def marker_term(relative: str, fingerprint: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(relative.encode() + b"\0" + fingerprint,
                                          digest_size=16).digest())


def site_marker(fingerprints: Mapping[str, bytes], paths: Iterable[str]) -> str:
    """What the site holds, as `MARKER` says it: the fingerprint of each rendered output,
    and the names of the other files (search files are named by their content; static
    files are fingerprinted by their stat, which is no business of the marker's)."""
    total = sum(marker_term(relative, fingerprints.get(relative, b"")) for relative in paths)
    return f"{total % MARKER_MODULUS:032x}"


def moved_marker(marker: str, gone: Iterable[tuple[str, bytes]],
                 came: Iterable[tuple[str, bytes]]) -> str:
    """`marker` after the files `gone` (name, fingerprint as the marker took it) were
    replaced by those that `came`."""
    total = int(marker, 16) - sum(marker_term(*file) for file in gone) \
        + sum(marker_term(*file) for file in came)
    return f"{total % MARKER_MODULUS:032x}"


def regular_file(path: Path | str, folder: int | None = None) -> bool:
    """A file a new site may be given a link to (not a link left in a page's place)."""
    try:
        return stat.S_ISREG(os.lstat(path, dir_fd=folder).st_mode)
    except OSError:
        return False


def twin_path(output: Path, keep_in: Path | None) -> Path:
    """Where the twin of `output` lives: in the cache folder (out of the editors' way
    and out of `git status`) when that is on the same file system, else beside it."""
    if keep_in is not None:
        try:
            keep_in.mkdir(parents=True, exist_ok=True)
            if keep_in.stat().st_dev == output.parent.stat().st_dev:
                return keep_in / "twin"
        except OSError:
            pass
    return output.with_name(f".{output.name}.twin")


def dirty(twin: Path) -> Path:
    return twin.with_name(twin.name + "-dirty")


def write_file(path: Path, data: bytes) -> None:
    """Create (or truncate) `path` with `data`: an open, a write and a close, where
    Path.write_bytes also asks the file's size and whether it is a terminal, through a
    buffered writer (half the CPU time of writing the 14,000 files of a cold build at
    10,000 articles)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view):]
    finally:
        os.close(descriptor)


def replace_file(target: Path, data: bytes | None, source: Path | None = None) -> None:
    """Put `data` (or a hard link to `source`) at `target` by rename, never in place."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    if not target.parent.is_dir():  # a new folder of the site (a new topic, a new month)
        target.parent.mkdir(parents=True, exist_ok=True)
    if source is not None:
        os.link(source, temporary)
    else:
        write_file(temporary, data or b"")
    os.replace(temporary, target)


class SiteWriter:
    """What both ways of writing a site record: every file of the new site, and the
    files whose bytes differ from the current site's (the next twin differs there)."""

    def __init__(self) -> None:
        self.paths: set[str] = set()
        self.changed: set[str] = set()
        self.committed = False

    @property
    def files(self) -> int:
        return len(self.paths)


class Staging(SiteWriter):
    """Files go into a sibling temporary folder; `commit` exchanges it with the output
    folder, and the previous site is kept as the twin for the next incremental build.
    Leaving the block without committing (an error, Ctrl-C) removes the staging folder
    and leaves the previous site exactly as it was. With no output folder (`digest
    check`) files are only counted.

    A file whose bytes equal the previous build's is hard-linked from it rather than
    written again: unchanged pages and index shards keep their inode and mtime."""

    def __init__(self, output: Path | None, twin: Path | None = None) -> None:
        super().__init__()
        self.output = output
        self.twin = twin  # where the old site goes (None: it is deleted)
        self.previous: Path | None = None
        self.staging = Path()
        if output is not None:
            self.previous = output if output.is_dir() else None
            self.staging = output.parent / f".{output.name}.tmp-{os.getpid()}"
        self.folders: set[str] = {""}  # folders made in the staging folder so far

    def target(self, relative: str) -> Path:
        """Where `relative` goes, its folder made once (a mkdir per file cost a cold
        build of 17,000 files a second)."""
        folder = relative.rpartition("/")[0]
        if folder not in self.folders:
            (self.staging / folder).mkdir(parents=True, exist_ok=True)
            while folder not in self.folders:
                self.folders.add(folder)
                folder = folder.rpartition("/")[0]
        return self.staging / relative

    def __enter__(self) -> Staging:
        if self.output is not None:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            # Leftovers of a killed earlier build carry our prefix; nothing else is removed.
            for stale in self.output.parent.glob(f".{self.output.name}.tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)
            self.staging.mkdir()
        return self

    def keep(self, relative: str) -> None:
        """The previous build's file is still right: link it into the new site."""
        self.paths.add(relative)
        if self.output is None:
            return
        assert self.previous is not None, "only a previous site has files to keep"
        os.link(self.previous / relative, self.target(relative))

    def write(self, relative: str, data: bytes) -> None:
        self.record(relative, self.put(relative, data))

    def put(self, relative: str, data: bytes) -> bool:
        """The file I/O of `write`, which a forked worker may do for its parent (it
        renders the page, so the bytes need not travel back): True when the bytes
        differ from the previous site's file. The parent then `record`s the file."""
        if self.output is None:
            return True
        target = self.target(relative)
        if self.previous is None or not link_if_unchanged(self.previous / relative, data,
                                                          target):
            write_file(target, data)
            return True
        return False

    def record(self, relative: str, changed: bool) -> None:
        self.paths.add(relative)
        if changed and self.output is not None:
            self.changed.add(relative)

    def commit(self) -> set[str] | None:
        """Swap the new site in. Returns the files in which the twin (the old site)
        differs from the new one, or None when there is no twin."""
        if self.output is None:
            return None
        if self.twin is not None:
            for stale in (self.twin, dirty(self.twin)):
                shutil.rmtree(stale, ignore_errors=True)
        if self.previous is None:
            self.staging.rename(self.output)
            self.committed = True
            return None
        exchange(self.staging, self.output)
        self.committed = True
        old = self.staging
        if self.twin is None:
            shutil.rmtree(old, ignore_errors=True)
            return None
        removed = set(files_under(old)) - self.paths
        old.rename(self.twin)
        return self.changed | removed

    def __exit__(self, *exc_info: object) -> None:
        if self.output is not None and not self.committed:
            shutil.rmtree(self.staging, ignore_errors=True)


class TwinUpdate(SiteWriter):
    """Bring the twin (the site before the current one) up to date and exchange it with
    the current site. `twin_differs`: files in which the twin differs from the current
    site (recorded by the last build); `current`: every file of the current site."""

    def __init__(self, output: Path, twin: Path, twin_differs: set[str], current: set[str]
                 ) -> None:
        super().__init__()
        self.output = output
        self.clean_twin = twin
        self.twin_differs = twin_differs
        self.current = current
        self.twin = dirty(twin)

    def __enter__(self) -> TwinUpdate:
        # From here on the twin is "dirty": if this build stops half-way, the next one
        # finds no twin and stages a full copy instead.
        self.clean_twin.rename(self.twin)
        return self

    def keep(self, relative: str) -> None:
        self.record(relative, False)
        self.link_current(relative)

    def link_current(self, relative: str) -> None:
        """The twin's file becomes a link to the current site's, where they differ."""
        if relative in self.twin_differs:
            replace_file(self.twin / relative, None, self.output / relative)

    def write(self, relative: str, data: bytes) -> None:
        self.record(relative, self.put(relative, data))

    def put(self, relative: str, data: bytes) -> bool:
        """The file I/O of `write`, which a forked process may do for this one (as
        Staging.put): True when the bytes differ from the current site's file."""
        if relative in self.current:
            try:
                if (self.output / relative).read_bytes() == data:
                    self.link_current(relative)
                    return False
            except OSError:
                pass
        replace_file(self.twin / relative, data)
        return True

    def record(self, relative: str, changed: bool) -> None:
        self.paths.add(relative)
        if changed:
            self.changed.add(relative)

    def commit(self) -> set[str]:
        gone = (self.current | self.twin_differs) - self.paths
        for relative in sorted(gone):
            target = self.twin / relative
            target.unlink(missing_ok=True)
            remove_empty_parents(target.parent, self.twin)
        exchange(self.twin, self.output)
        self.committed = True
        self.twin.rename(self.clean_twin)
        return self.changed | (self.current - self.paths)

    def __exit__(self, *exc_info: object) -> None:
        if not self.committed:
            shutil.rmtree(self.twin, ignore_errors=True)


def make_twin(output: Path, twin: Path) -> None:
    """A twin equal to the site: every file hard-linked (a site staged into an empty
    folder has none, and its first incremental build would link all of them then)."""
    for stale in (twin, dirty(twin)):
        shutil.rmtree(stale, ignore_errors=True)
    scratch = dirty(twin)  # a copy stopped half-way is dirty: the next build drops it
    shutil.copytree(output, scratch, copy_function=os.link)
    scratch.rename(twin)


def files_under(top: Path) -> Iterator[str]:
    """Every file under `top`, as a relative POSIX path (os.walk: a tenth of the time of
    Path.rglob over a site's 17,000 files)."""
    for folder, _, names in os.walk(top):
        prefix = os.path.relpath(folder, top).replace(os.sep, "/")
        for name in names:
            yield name if prefix == "." else f"{prefix}/{name}"


def remove_empty_parents(folder: Path, top: Path) -> None:
    while folder != top:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


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
