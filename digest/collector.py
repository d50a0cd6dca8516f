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
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
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
    return multiprocessing.get_context("fork").Pool(initializer=gc.enable)


def forked_executor(workers: int) -> ProcessPoolExecutor:
    """The same, as a concurrent.futures executor (its futures bound the work in flight)."""
    from concurrent.futures import ProcessPoolExecutor

    before_fork()
    return ProcessPoolExecutor(workers, initializer=gc.enable)


class ForkedWork:
    """`work()` in a forked child while this process does something else, its bytes
    handed back through a pipe (prescan.ScanChild, render.RenderingBeside). The child
    leaves with os._exit: none of this process's exits run twice."""

    def __init__(self, pid: int, readable: int) -> None:
        self.pid, self.readable = pid, readable

    @classmethod
    def start(cls, work: Callable[[], bytes]) -> ForkedWork | None:
        """The child at work, or None where none can be forked."""
        if sys.platform != "linux":  # (forked as the pools are: only on Linux)
            return None
        try:
            sys.stdout.flush()
            sys.stderr.flush()  # (a child's copy of unflushed output would be written twice)
            readable, writable = os.pipe()
            pid = os.fork()
        except OSError:
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
