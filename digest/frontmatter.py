"""Split a Markdown file into YAML front matter and body, keeping every key's position.

YAML is parsed once with libyaml (`CSafeLoader`) into a node tree so each key and
value knows its file line and column; the values are then constructed from those
same nodes. Timestamps are *not* resolved by YAML: dates stay strings and are
parsed by digest itself, so `2023-05-18` and `2023-05-18 09:30` follow one rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from digest.errors import Diagnostics

Position = tuple[int, int]  # 1-based (line, column) in the file
KeyPath = tuple[str | int, ...]


class FrontMatterLoader(yaml.CSafeLoader):
    """Safe libyaml loader that leaves timestamps as plain strings."""


FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class FrontMatter:
    data: dict[str, Any]
    body: str
    body_line: int  # file line where the body starts
    # key path -> position of the key itself, and of its value
    key_positions: dict[KeyPath, Position] = field(default_factory=dict)
    value_positions: dict[KeyPath, Position] = field(default_factory=dict)

    def key_at(self, *path: str | int) -> Position:
        return self.key_positions.get(path) or self.value_at(*path)

    def value_at(self, *path: str | int) -> Position:
        while path:
            if path in self.value_positions:
                return self.value_positions[path]
            path = path[:-1]
        return (1, 1)


def _record_positions(
    node: yaml.Node, path: KeyPath, offset: int, matter: FrontMatter
) -> None:
    matter.value_positions[path] = (node.start_mark.line + offset, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            matter.key_positions[(*path, key)] = (
                key_node.start_mark.line + offset,
                key_node.start_mark.column + 1,
            )
            _record_positions(value_node, (*path, key), offset, matter)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_positions(item, (*path, index), offset, matter)


def first_problem(root: yaml.Node) -> tuple[str, str, yaml.Mark] | None:
    """What YAML allows but front matter must not have: a node used twice (an alias:
    499 bytes of nested aliases expand to gigabytes, "billion laughs"), and a key
    written twice in one mapping (YAML would silently keep the last)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return ("anchors and aliases (&name, *name) are not allowed in front matter",
                    "write the value out in full", node.start_mark)
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[object] = set()
            pairs: list[yaml.Node] = []
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key is not None and key in keys:
                    return (f"duplicate key '{key}'",
                            "keep one of them: YAML would silently use the last",
                            key_node.start_mark)
                keys.add(key)
                pairs += [key_node, value_node]
            stack += reversed(pairs)  # popped in the order they are written
        elif isinstance(node, yaml.SequenceNode):
            stack += reversed(node.value)
    return None


# The front matter most news is written in, read without libyaml (quick_front_matter):
# one `key: value` a line, the value a double-quoted string (no escapes but \" and \\),
# a flow list of such strings, or a plain date.
_QUOTED = r'"(?:[^"\\]|\\["\\])*"'
QUICK_LINE = re.compile(rf"([a-z_]+): (?:({_QUOTED})|(\[(?:{_QUOTED}(?:, {_QUOTED})*)?\])"
                        r"|([0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2})?"
                        r"(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?))\Z")
QUOTED_ITEM = re.compile(_QUOTED)
ESCAPED = re.compile(r'\\(["\\])')
# What YAML reads as a line break beyond "\n" (str.splitlines too), or refuses in a
# quoted scalar (non-printable characters, a byte order mark).
QUICK_REFUSED = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
                           "\ufeff\ufffe\uffff]")


def unquoted(quoted: str) -> str:
    inner = quoted[1:-1]
    return ESCAPED.sub(r"\1", inner) if "\\" in inner else inner


def quick_front_matter(text: str) -> FrontMatter | None:
    """The FrontMatter `parse_front_matter` makes of `text`, values and positions, for
    front matter written in QUICK_LINE's forms alone; None for anything else (libyaml
    decides). Reading the YAML of an article took a fifth of parsing it (0.12 of 0.6 ms),
    most of it PyYAML's constructor in Python; tests/test_frontmatter.py compares both
    on generated front matter."""
    if not text.startswith("---\n"):
        return None
    closing = text.find("\n---\n", 3)
    if closing < 0 or QUICK_REFUSED.search(text, 0, closing + 5):
        return None
    lines = text[4:closing].split("\n")
    matter = FrontMatter({}, text[closing + 5:], len(lines) + 3)
    resolvers = FrontMatterLoader.yaml_implicit_resolvers
    for number, line in enumerate(lines, start=2):
        match = QUICK_LINE.match(line)
        if match is None:
            return None
        key, quoted, listed, plain = match.groups()
        if key in matter.data or any(regexp.match(key) for _, regexp in resolvers.get(key[0], ())):
            return None  # a key twice, or a key YAML reads as other than text (`no`, `on`)
        column = len(key) + 3
        matter.key_positions[(key,)] = (number, 1)
        matter.value_positions[(key,)] = (number, column)
        if quoted is not None:
            matter.data[key] = unquoted(quoted)
        elif listed is not None:
            items = []
            for index, item in enumerate(QUOTED_ITEM.finditer(listed)):
                items.append(unquoted(item[0]))
                matter.value_positions[(key, index)] = (number, column + item.start())
            matter.data[key] = items
        else:  # (a date: no implicit resolver but the timestamp's, which is off, takes it)
            matter.data[key] = plain
    if not matter.data:
        return None
    matter.value_positions[()] = (2, 1)
    return matter


def parse_front_matter(
    text: str, path: str, diagnostics: Diagnostics, required: bool = True
) -> FrontMatter | None:
    """Parse `---`-delimited YAML front matter; report problems, return None on failure."""
    text = text.removeprefix("\ufeff")
    quick = quick_front_matter(text)
    if quick is not None:
        return quick
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        if required:
            diagnostics.error(
                path, 1, 1, "missing front matter",
                "start the file with a line '---', the YAML keys (title, date, …), then '---'",
            )
            return None
        return FrontMatter({}, text, 1)
    closing = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if closing is None:
        diagnostics.error(path, 1, 1, "front matter is not closed",
                          "add a line '---' after the last front-matter key")
        return None

    yaml_text = "".join(lines[1:closing])
    matter = FrontMatter({}, "".join(lines[closing + 1:]), closing + 2)
    offset = 2  # libyaml lines are 0-based and the YAML starts on file line 2
    loader = FrontMatterLoader(yaml_text)
    try:
        node, data = checked_document(loader)
        if node is None:
            return matter
    except RefusedYAML as error:
        diagnostics.error(path, error.mark.line + offset, error.mark.column + 1,
                          error.problem or "", error.hint)
        return None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + offset, mark.column + 1) if mark else (offset, 1)
        message = f"invalid YAML: {error.problem or error.context}"
        hint = "check indentation, and quote values that contain ': ' or start with [ { * & !"
        if error.context and error.problem:
            hint = f"{error.context}; {hint}"
        diagnostics.error(path, line, column, message, hint)
        return None
    except yaml.YAMLError as error:
        diagnostics.error(path, offset, 1, f"invalid YAML: {error}")
        return None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        diagnostics.error(path, offset, 1, "front matter must be a mapping of keys to values",
                          "write one 'key: value' per line")
        return None
    matter.data = data
    _record_positions(node, (), offset, matter)
    return matter


class RefusedYAML(yaml.MarkedYAMLError):
    """Valid YAML that front matter must not have (`first_problem`), with a hint."""

    def __init__(self, message: str, hint: str, mark: yaml.Mark) -> None:
        super().__init__(problem=message, problem_mark=mark)
        self.hint = hint
        self.mark = mark


def checked_document(loader: yaml.CSafeLoader) -> tuple[yaml.Node | None, Any]:
    """The loader's document as a node and as values, or RefusedYAML: checked on the
    node tree before anything is constructed (an alias bomb is never expanded)."""
    node = loader.get_single_node()
    if node is None:
        return None, None
    problem = first_problem(node)
    if problem is not None:
        raise RefusedYAML(*problem)
    return node, loader.construct_document(node)


def load_yaml(text: str) -> Any:
    """yaml.safe_load without its two traps (`first_problem`), for YAML that is not an
    article's front matter (import reads other tools' posts); timestamps resolved."""
    loader = yaml.CSafeLoader(text)
    try:
        return checked_document(loader)[1]
    finally:
        loader.dispose()
