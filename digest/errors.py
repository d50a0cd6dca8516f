"""Diagnostics: every bad input becomes `path:line:col: severity: message` plus a hint.

Nothing in digest raises a bare exception at an editor: loaders collect
`Diagnostic`s into a `Diagnostics` list and the pipeline stops with a
`BuildError` carrying all of them, so one run reports every problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True)
class Diagnostic:
    path: str  # as shown to the editor: relative to the project root where possible
    line: int  # 1-based; 0 when the problem concerns the whole file
    column: int  # 1-based; 0 when unknown
    message: str
    severity: Severity = "error"
    hint: str | None = None

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.message)

    def format(self) -> str:
        location = self.path
        if self.line:
            location += f":{self.line}"
            if self.column:
                location += f":{self.column}"
        text = f"{location}: {self.severity}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


@dataclass
class Diagnostics:
    """An append-only collection of problems found during one run."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(
        self, path: str, line: int, column: int, message: str, hint: str | None = None
    ) -> None:
        self.items.append(Diagnostic(path, line, column, message, "error", hint))

    def warning(
        self, path: str, line: int, column: int, message: str, hint: str | None = None
    ) -> None:
        self.items.append(Diagnostic(path, line, column, message, "warning", hint))

    def note(self, path: str, line: int, column: int, message: str,
             hint: str | None = None) -> None:
        """A suggestion: shown, but never a failure, even under --strict."""
        self.items.append(Diagnostic(path, line, column, message, "note", hint))

    def extend(self, other: Iterable[Diagnostic]) -> None:
        self.items.extend(other)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=Diagnostic.sort_key)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class DigestError(Exception):
    """An error that knows its exit code and how to show itself (click/httpx idiom)."""

    exit_code = 1

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        super().__init__("\n".join(d.format() for d in self.diagnostics))


class BuildError(DigestError):
    """Content, configuration or template problems: exit code 1."""


class UsageError(DigestError):
    """The command line itself is wrong (bad flag value, unsafe output folder): exit code 2."""

    exit_code = 2


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A hint naming the closest valid choice, or None when nothing is close."""
    import difflib  # (only for a mistake: every build imports this module)
    matches = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None
