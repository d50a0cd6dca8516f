"""When Python's cyclic garbage collector runs during a build. A build makes hundreds of
thousands of long-lived objects and little cyclic garbage: the collector would walk
them again and again as they appear, and forked workers that collect would walk (and
so copy) everything they inherit."""

from __future__ import annotations

import gc
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.pool import Pool


@contextmanager
def no_gc_pauses(freeze: bool = False) -> Iterator[None]:
    """Unpickling the state makes ~200,000 objects that all live on; the cyclic garbage
    collector would walk them again and again as they appear (1.5 s instead of 0.16 s
    at 10,000 articles). Nothing in a state refers to itself, so nothing is lost.
    `freeze`: the objects made stay out of later collections too (a build's model, which
    would cost one full walk of ~0.7 s once the collector is back; a cold build at
    10,000 articles spent 1 s collecting); a long-running process calls
    `collect_frozen()` when it is idle."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()


def collect_frozen() -> None:
    """Free what earlier builds left frozen (their models hold reference cycles)."""
    if gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()


def before_fork() -> None:
    """Before forking workers, which collect their own garbage (they start with
    `gc.enable`): while the collector is paused, what they would inherit is frozen, or
    their first collection would walk the parent's whole heap (a worker's CPU up by a
    sixth in a cold build)."""
    if not gc.isenabled():
        gc.freeze()


# What builds left instead of freeing it, in a process that ends with os._exit once its
# build is done (cli.run); None in any other (serve builds again and again).
_SPARED: list[Any] | None = None


def exit_without_freeing() -> None:
    """This process ends right after its build, without tearing itself down: a build
    may leave its objects to that exit instead of freeing them object by object."""
    global _SPARED
    _SPARED = []


def exits_after_build() -> bool:
    """Whether this process ends as soon as its build is done (cli.run)."""
    return _SPARED is not None


def spare(values: Any) -> None:
    """Leave `values` (a build's state, model and plan) to the process's exit where
    `exit_without_freeing` was called, else let them be freed as usual. Freeing a tag
    edit's at 10,000 articles took 0.07 s (18,000 page faults: the snapshot child had
    just been forked, so each page written to was copied first)."""
    if _SPARED is not None:
        _SPARED.append(values)


# The pools are made here, importing multiprocessing (and concurrent.futures) on first
# use: an edit or a small site forks no worker and spares the imports (15 ms).

def forked_pool() -> Pool:
    """A pool of forked workers that collect their own garbage."""
    import multiprocessing

    before_fork()
    return multiprocessing.get_context("fork").Pool(initializer=start_worker)


def forked_executor(workers: int) -> ProcessPoolExecutor:
    """The same, as a concurrent.futures executor (its futures bound the work in flight)."""
    from concurrent.futures import ProcessPoolExecutor

    before_fork()
    return ProcessPoolExecutor(workers, initializer=start_worker)


def start_worker() -> None:
    """A forked worker or child: it collects its own garbage, and SIGTERM ends it.
    A pool stops its workers with SIGTERM, and serve's handler of it (stop as Ctrl-C
    does), inherited, once left a worker of the first build of a 10k site waiting
    for the pool's queue forever, and serve with it."""
    gc.enable()
    default_sigterm()


def default_sigterm() -> None:
    """SIGTERM ends this (forked) process, whatever handler it inherited."""
    with suppress(ValueError):  # (not forked from the main thread: nothing inherited)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def can_fork() -> bool:
    """Whether a build forks children here: on Linux, as the pools are forked."""
    return sys.platform == "linux"


def worth_a_pool(count: int, threshold: int) -> bool:
    """Whether `count` items (at least `threshold` pay for forking) go to a pool of
    forked workers: with more than one core, where a build forks."""
    return count >= threshold and (os.cpu_count() or 1) > 1 and can_fork()


def fork() -> int | None:
    """os.fork for a build's children (ForkedWork, fork_detached), this process's output
    flushed first (a child's copy of unflushed output would be written twice); None
    when it cannot fork."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:
        default_sigterm()  # (see start_worker)
    return pid


class ForkedWork:
    """`work()` in a forked child while this process does something else, its bytes
    handed back through a pipe (prescan.ScanChild, render.RenderingBeside). The child
    leaves with os._exit: none of this process's exits run twice."""

    def __init__(self, pid: int, readable: int) -> None:
        self.pid, self.readable = pid, readable

    @classmethod
    def start(cls, work: Callable[[], bytes]) -> ForkedWork | None:
        """The child at work, or None where none can be forked."""
        if not can_fork():
            return None
        try:
            readable, writable = os.pipe()
        except OSError:
            return None
        pid = fork()
        if pid is None:
            os.close(readable)
            os.close(writable)
            return None
        if pid == 0:
            code = 1
            try:
                os.close(readable)
                data = work()
                with os.fdopen(writable, "wb") as pipe:
                    pipe.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(writable)
        return cls(pid, readable)

    def done(self) -> bool:
        """Whether the child has handed its bytes over (`result` would not wait)."""
        return bool(select.select([self.readable], [], [], 0)[0])

    def result(self) -> bytes | None:
        """The child's bytes, waited for; None when it failed."""
        try:
            with os.fdopen(self.readable, "rb") as pipe:
                data = pipe.read()
            status = os.waitpid(self.pid, 0)[1]
        except OSError:
            return None
        finally:
            self.pid = 0
        return data if status == 0 else None

    def cancel(self) -> None:
        """Stop the child, if this process no longer wants its work."""
        if self.pid:
            with suppress(ProcessLookupError, ChildProcessError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            self.pid = 0


def fork_detached(pending: Path, work: Callable[[], None]) -> int | None:
    """Run `work` in a forked child that outlives this process (resume.SnapshotWriter,
    resume.start_state_writer): `pending` exists from now until the child is done and
    is touched every second meanwhile, so whoever needs the work waits while it is
    there and fresh (state.wait_while_pending). The child's pid, or None where none
    can be forked (then nothing was started and `pending` is gone)."""
    if not can_fork():
        return None
    try:
        pending.parent.mkdir(parents=True, exist_ok=True)
        pending.touch()
    except OSError:
        return None
    pid = fork()
    if pid is None:
        pending.unlink(missing_ok=True)
        return None
    if pid == 0:  # the child: work, and leave without running the parent's exits
        code = 1
        try:
            # It outlives the build: off the parent's terminal and pipes (whoever reads
            # those to their end, a shell's $(…), a caller capturing output, must not
            # wait for it) and every other file it holds (the output folder's lock:
            # the next build may start before this child is done).
            null = os.open(os.devnull, os.O_RDWR)
            for standard in (0, 1, 2):
                os.dup2(null, standard)
            os.closerange(3, os.sysconf("SC_OPEN_MAX"))
            threading.Thread(target=_keep_touching, args=(pending,), daemon=True).start()
            work()
            code = 0
        finally:  # whatever happened: the waiting ends
            pending.unlink(missing_ok=True)
            os._exit(code)
    return pid


def _keep_touching(pending: Path) -> None:
    """Show the child alive to builds waiting on `pending` (until it is gone)."""
    while True:
        time.sleep(1.0)
        try:
            os.utime(pending)
        except OSError:
            return
