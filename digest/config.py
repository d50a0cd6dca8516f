"""Site settings: a frozen `Config` read from `[tool.digest]` in pyproject.toml.

Every setting has a default, so a folder holding only `content/` builds. Unknown
keys and wrong types are diagnostics (with "did you mean"), never silently ignored.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest.errors import BuildError, Diagnostic, Diagnostics, UsageError, did_you_mean

PYPROJECT = "pyproject.toml"
PERMALINK_FIELDS = ("year", "month", "day", "slug")
EDITION_PERIODS = ("weekly", "daily", "monthly", "")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EDITION_GROUPS = ("company", "topic")


@dataclass(frozen=True)
class Config:
    """All site settings. Field docs are the reference; README lists each one."""

    root: Path = field(default_factory=Path.cwd)
    title: str = "Business Digest"
    description: str = ""
    # Where the site is published. A path ("/") or a full URL; a subpath such as
    # https://example.github.io/repo/ prefixes every link with /repo/.
    base_url: str = "/"
    language: str = "en"
    # IANA zone: dates without an offset are local to it, datelines are shown in it.
    timezone: str = "UTC"
    per_page: int = 10
    permalink: str = "/{year}/{month}/{slug}/"
    content_dir: str = "content"
    output_dir: str = "site"
    templates_dir: str = "templates"
    related_count: int = 4
    words_per_minute: int = 230
    # Build the search index and page (issue 3); false leaves both out.
    search: bool = True
    # Entries per feed, and whether feeds carry the full article or its summary.
    feed_entries: int = 20
    feed_content: str = "full"
    # A custom domain for GitHub Pages: written to the CNAME file when set.
    cname: str = ""
    # Rendered Markdown is cached here by content hash; "" turns the cache off.
    cache_dir: str = ".digest-cache"
    # Editions, the digest itself (/editions/): "weekly", "daily", "monthly" or "" (off);
    # weeks begin on `week_start` and are named by ISO week ("2023-W20") in `timezone`;
    # an edition lists its articles by "company" or by "topic".
    editions: str = "weekly"
    week_start: str = "monday"
    edition_group: str = "company"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def content_path(self) -> Path:
        return self.root / self.content_dir

    @property
    def output_path(self) -> Path:
        path = self.root / self.output_dir
        if path.name in ("", ".", ".."):
            return path.resolve()
        # The last part stays as written: a link named as the output folder is refused
        # (output.check_output_folder), never followed to the folder it points at.
        return path.parent.resolve() / path.name

    @property
    def cache_path(self) -> Path | None:
        return self.root / self.cache_dir if self.cache_dir else None

    @property
    def templates_path(self) -> Path:
        return self.root / self.templates_dir


TYPES_BY_NAME: dict[str, type] = {"int": int, "str": str, "bool": bool}
SETTING_TYPES: dict[str, type] = {
    f.name: TYPES_BY_NAME[str(f.type)] for f in fields(Config) if f.name != "root"
}
TYPE_WORDS = {int: "an integer", str: "a string", bool: "true or false"}


def find_key_line(text: str, section: str, key: str) -> int:
    """Line of `key = …` inside `[section]`; tomllib keeps no positions, so we look."""
    in_section = section == ""  # "" is the top level, before any [table]
    header = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$")
    for number, line in enumerate(text.splitlines(), start=1):
        match = header.match(line)
        if match:
            in_section = match.group(1) == section
        elif in_section and re.match(rf"^\s*{re.escape(key)}\s*=", line):
            return number
    return 0


def load_config(root: Path, overrides: dict[str, Any] | None = None) -> Config:
    """Read `[tool.digest]` from root/pyproject.toml (if present) and validate it."""
    diagnostics = Diagnostics()
    pyproject = root / PYPROJECT
    settings: dict[str, Any] = {}
    text = ""
    if pyproject.is_file():
        text = pyproject.read_text(encoding="utf-8")
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            position = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
            line, column = (int(position[1]), int(position[2])) if position else (0, 0)
            message = re.sub(r"\s*\(at line.*\)$", "", str(error))
            diagnostics.error(PYPROJECT, line, column, f"invalid TOML: {message}")
            raise BuildError(diagnostics) from None
        tool = document.get("tool", {})
        table = tool.get("digest", {}) if isinstance(tool, dict) else None
        if isinstance(table, dict):
            settings = dict(table)
        else:
            diagnostics.error(PYPROJECT, find_key_line(text, "", "tool"), 1,
                              "'tool.digest' must be a table of settings",
                              "write the settings under a line [tool.digest]")
            raise BuildError(diagnostics)
    settings.update(overrides or {})

    values: dict[str, Any] = {}
    for key, value in settings.items():
        line = find_key_line(text, "tool.digest", key)
        expected = SETTING_TYPES.get(key)
        if expected is None:
            diagnostics.error(
                PYPROJECT, line, 1, f"unknown setting '{key}' in [tool.digest]",
                did_you_mean(key, SETTING_TYPES) or "see the README for every setting",
            )
        elif type(value) is not expected:
            diagnostics.error(
                PYPROJECT, line, 1,
                f"setting '{key}' must be {TYPE_WORDS[expected]}, got {type(value).__name__}",
            )
        else:
            values[key] = value

    config = replace(Config(root=root), **values)
    check_values(config, text, diagnostics)
    if diagnostics.errors:
        raise BuildError(diagnostics)
    return replace(config, base_url=normalize_base_url(config.base_url))


def normalize_base_url(base_url: str) -> str:
    return base_url if base_url.endswith("/") else base_url + "/"


def check_values(config: Config, text: str, diagnostics: Diagnostics) -> None:
    def problem(key: str, message: str, hint: str | None = None) -> None:
        diagnostics.error(PYPROJECT, find_key_line(text, "tool.digest", key), 1, message, hint)

    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problem("timezone", f"unknown timezone '{config.timezone}'",
                "use an IANA name such as 'UTC', 'Asia/Shanghai' or 'America/New_York'")
    if not re.match(r"^(/|https?://[^/\s]+(/|$))", config.base_url):
        problem("base_url", f"base_url '{config.base_url}' is neither a path nor an http(s) URL",
                "use '/' or a full URL such as 'https://example.github.io/repo/'")
    if config.feed_content not in ("full", "summary"):
        problem("feed_content", f"feed_content must be 'full' or 'summary', got "
                f"'{config.feed_content}'")
    for key, allowed in (("editions", EDITION_PERIODS), ("week_start", WEEKDAYS),
                         ("edition_group", EDITION_GROUPS)):
        value = getattr(config, key)
        if value not in allowed:
            problem(key, f"setting '{key}' must be one of {', '.join(map(repr, allowed))}, "
                    f"got {value!r}", did_you_mean(value, allowed))
    for key in ("per_page", "related_count", "words_per_minute", "feed_entries"):
        if getattr(config, key) < (0 if key == "related_count" else 1):
            problem(key, f"setting '{key}' must be positive")
    if not valid_permalink(config.permalink):
        problem("permalink", f"bad permalink '{config.permalink}'",
                "write folders of letters, digits, '-', '_' and the placeholders {slug} "
                "(required), {year}, {month}, {day}, between slashes: '/{year}/{slug}/'")


PERMALINK_SEGMENT = re.compile(
    r"(?:[A-Za-z0-9_~-]|\.(?!\.)|\{(?:" + "|".join(PERMALINK_FIELDS) + r")\})+")


def valid_permalink(permalink: str) -> bool:
    """'/' + folders + '/', each folder made of safe characters and placeholders: a
    permalink can neither leave the output folder ('..') nor become a javascript: link
    nor reach into Python objects ('{year.real}')."""
    if not (permalink.startswith("/") and permalink.endswith("/")) or "{slug}" not in permalink:
        return False
    return all(PERMALINK_SEGMENT.fullmatch(segment) and segment not in (".", "..")
               for segment in permalink[1:-1].split("/"))


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


def default_theme_path() -> Path:
    """The theme inside the installed wheel, or templates/ of a source checkout."""
    packaged = Path(__file__).parent / "theme"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "templates"
