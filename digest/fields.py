"""Typed readers for front-matter values, each reporting problems at the value's position."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from digest.errors import Diagnostics, did_you_mean
from digest.frontmatter import FrontMatter, KeyPath

YEARS = (1000, 4999)
DATE_HINT = "use YYYY-MM-DD, 'YYYY-MM-DD HH:MM', or ISO 8601 with an offset such as " \
    "2023-05-18T09:30:00+08:00"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", bool: "true/false", str: "a string",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def parse_datetime(text: str, zone: tzinfo) -> datetime | None:
    """Date or date-time; without an offset it is local to `zone`. None if unparsable
    or outside YEARS (see `in_range`)."""
    moment = parse_any_datetime(text, zone)
    return moment if moment is not None and in_range(moment) else None


def parse_any_datetime(text: str, zone: tzinfo) -> datetime | None:
    text = text.strip()
    try:
        if _DATE.fullmatch(text):
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=zone)
        elif _DATETIME.fullmatch(text):
            moment = datetime.fromisoformat(text.replace(" ", "T", 1))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=zone)
        else:
            return None
    except ValueError:
        return None
    return moment


def in_range(moment: datetime) -> bool:
    """Years 1000–4999: every date then converts to any timezone (0001-01-01+14:00 is
    before the first representable instant) and fits the search index's day numbers."""
    try:
        return YEARS[0] <= moment.astimezone(UTC).year <= YEARS[1]
    except (OverflowError, ValueError):
        return False



class FieldReader:
    """Reads one file's front matter, collecting diagnostics instead of raising."""

    def __init__(self, matter: FrontMatter, path: str, diagnostics: Diagnostics) -> None:
        self.matter = matter
        self.path = path
        self.diagnostics = diagnostics

    def error(self, key_path: KeyPath, message: str, hint: str | None = None,
              at_key: bool = False) -> None:
        line, column = (self.matter.key_at if at_key else self.matter.value_at)(*key_path)
        self.diagnostics.error(self.path, line, column, message, hint)

    def check_keys(self, data: dict[str, Any], allowed: Iterable[str], where: KeyPath = (),
                   what: str = "key") -> None:
        allowed = sorted(allowed)
        for key in data:
            if key not in allowed:
                self.error((*where, str(key)), f"unknown {what} '{key}'",
                           did_you_mean(str(key), allowed)
                           or f"allowed keys: {', '.join(allowed)}", at_key=True)

    def require(self, data: dict[str, Any], key: str, where: KeyPath = ()) -> bool:
        if data.get(key) in (None, ""):
            label = ".".join(str(part) for part in (*where, key))
            if key in data:
                self.error((*where, key), f"'{label}' is empty", f"give '{key}' a value")
            else:
                self.error(where, f"missing required key '{label}'",
                           f"add a line '{key}: …' to the front matter")
            return False
        return True

    def string(self, data: dict[str, Any], key: str, where: KeyPath = ()) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error((*where, key), f"'{key}' must be a string, got {type_name(value)}",
                       "quote the value: key: \"…\"")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            # YAML reads 1e400 or .inf as a number: the text would become "inf"
            self.error((*where, key), f"'{key}' is read as the number {value}",
                       "quote the value: key: \"…\"")
            return None
        return str(value).strip()

    def boolean(self, data: dict[str, Any], key: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.error((key,), f"'{key}' must be true or false, got {type_name(value)}")
            return False
        return value

    def string_list(self, data: dict[str, Any], key: str) -> list[tuple[str, KeyPath]]:
        """A list or a comma-separated string; returns each item with its key path."""
        value = data.get(key)
        if value is None:
            return []
        items: list[tuple[str, KeyPath]] = []
        if isinstance(value, str):
            items = [(part.strip(), (key,)) for part in value.split(",")]
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, bool) or not isinstance(item, str | int | float):
                    self.error((key, index), f"'{key}' entries must be strings, "
                               f"got {type_name(item)}")
                    continue
                items.append((str(item).strip(), (key, index)))
        else:
            self.error((key,), f"'{key}' must be a list or a comma-separated string, "
                       f"got {type_name(value)}", f"write {key}: [first, second]")
            return []
        seen: set[str] = set()
        unique: list[tuple[str, KeyPath]] = []
        for name, key_path in items:
            if name and name.casefold() not in seen:
                seen.add(name.casefold())
                unique.append((name, key_path))
        return unique

    def moment(self, data: dict[str, Any], key: str, zone: tzinfo,
               where: KeyPath = ()) -> datetime | None:
        value = data.get(key)
        if value is None:
            return None
        parsed = parse_datetime(value, zone) if isinstance(value, str) else None
        if parsed is None and isinstance(value, str) \
                and parse_any_datetime(value, zone) is not None:
            self.error((*where, key), f"'{key}' is out of range: '{value.strip()}'",
                       f"digest takes dates from the years {YEARS[0]} to {YEARS[1]}")
        elif parsed is None:
            shown = value if isinstance(value, str) else type_name(value)
            self.error((*where, key), f"cannot read '{key}' as a date: '{shown}'", DATE_HINT)
        return parsed

    def url(self, data: dict[str, Any], key: str, where: KeyPath = ()) -> str | None:
        value = self.string(data, key, where)
        if value and not re.match(r"^https?://[^\s/]+\S*$", value):
            self.error((*where, key), f"'{key}' must be an http(s) URL, got '{value}'",
                       "write the full address, starting with https://")
            return None
        return value
