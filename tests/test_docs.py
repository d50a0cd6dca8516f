"""Every setting and every front-matter key is documented in the README (Datasette habit)."""

from __future__ import annotations

import pytest

from digest.config import SETTING_TYPES
from digest.entries import (
    ARTICLE_KEYS,
    COMPANY_KEYS,
    EVENT_KEYS,
    EVENT_TYPES,
    SOURCE_KEYS,
    TOPIC_KEYS,
)
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
ARCHITECTURE = (REPO / "docs/ARCHITECTURE.md").read_text(encoding="utf-8")
KEYS = sorted({*ARTICLE_KEYS, *COMPANY_KEYS, *TOPIC_KEYS, *EVENT_KEYS,
               *(f"source.{k}" for k in SOURCE_KEYS)})


@pytest.mark.parametrize("setting", sorted(SETTING_TYPES))
def test_setting_is_documented(setting: str) -> None:
    assert f"| `{setting}` |" in README, f"document [tool.digest] {setting} in README.md"


@pytest.mark.parametrize("key", KEYS)
def test_front_matter_key_is_documented(key: str) -> None:
    assert f"`{key}`" in README, f"document front-matter key {key!r} in README.md"


def test_event_types_are_documented() -> None:
    for event_type in EVENT_TYPES:
        assert f"`{event_type}`" in README


def test_architecture_names_every_module() -> None:
    for module in sorted((REPO / "digest").rglob("*.py")):
        if module.stem not in ("__init__", "__main__"):
            assert f"{module.stem}.py" in ARCHITECTURE, module.name
