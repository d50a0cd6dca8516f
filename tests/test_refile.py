"""Re-tagged articles moved between topics in a kept or restored model (refile.py)
give exactly the site a clean build gives: random re-taggings over topics named in
several spellings (the name is the most used one), registered and not, topics made and
emptied, a topic that gains and loses its years (one article on a topic's page, ten a
page of a year: the plan's other units are carried over), tags naming a company
(declines), related lists near the moved article. The test also checks that most moves
were patched, not made afresh."""

from __future__ import annotations

import os
import random
from functools import partial
from pathlib import Path

import pytest

import digest.build
from digest.model import build_site as real_build_site
from digest.state import KeptState
from tests.test_incremental import Site
from tests.test_safety import snapshot

SPELLINGS = ["Cloud", "Cloud", "cloud", "CLOUD", "AI", "AI", "ai", "Chips", "chips", "IPO",
             "ipo", "Listing", "Fintech", "Fintech", "fintech",  # the first spellings lead
             "Quantum", "Space"]  # rare: topics made and emptied
COMPANIES = ["Alibaba", "Tencent", "Baidu", "Ant Group"]
STEPS = 24  # three rounds of eight: see the steps below


def make_project(root: Path, rng: random.Random) -> Site:
    (root / "content/articles").mkdir(parents=True)
    (root / "content/topics").mkdir()
    (root / "content/topics/ipo.md").write_text(
        "---\nname: IPO\naliases: [Listing]\n---\n", encoding="utf-8")
    # a topic named as a company: which of the two a tag files under depends on the
    # order a build meets them in
    (root / "content/topics/ant-group.md").write_text("---\nname: Ant Group\n---\n",
                                                      encoding="utf-8")
    (root / "pyproject.toml").write_text(
        '[tool.digest]\ntitle = "Refile"\nper_page = 1\nrelated_count = 3\n',
        encoding="utf-8")
    site = Site(root, rng)
    for number in range(30):
        # tags last: a new tag list moves no other key, so the article keeps its shape
        site.write(root / f"content/articles/a{number:02}.md",
                   {"title": f"Article {number}",
                    "date": f"202{3 + number % 2}-0{1 + number % 9}-1{number % 10}",
                    "companies": rng.sample(COMPANIES, rng.randint(1, 2)),
                    "tags": rng.sample(SPELLINGS, rng.randint(1, 3))},
                   f"Body of article {number}.\n")
    return site


def retag(matter: dict[str, object], body: str, tags: list[str]) -> tuple[dict[str, object], str]:
    return {**matter, "tags": tags}, body


@pytest.mark.parametrize(("seed", "serve"), [(1, False), (2, True), (3, False)])
def test_moves_between_topics_equal_clean_builds(tmp_path: Path, seed: int, serve: bool,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    made: list[int] = []

    def counting(*args: object, **kwargs: object) -> object:
        made.append(1)
        return real_build_site(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(digest.build, "build_site", counting)
    site = make_project(tmp_path / "project", rng)
    site.kept = KeptState() if serve else None
    site.build(site.root / "site")
    patched, made_topics, emptied_topics, years_laid = 0, 0, 0, 0
    first = second = path = site.pick()
    for step in range(STEPS):
        theme = f"Theme {step - step % 8}"
        if step % 8 == 4:  # an article with a topic no article had: the topic is made
            path = first = site.pick()
            tags = [*tags_of(site, path), theme]
        elif step % 8 == 5:  # one of the other year joins it: the topic gets its years
            path = second = pick_of_another_year(site, first)
            tags = [*tags_of(site, path), theme]
        elif step % 8 in (6, 7):  # both leave it: its years go, then the topic
            path = second if step % 8 == 6 else first
            tags = [tag for tag in tags_of(site, path) if not tag.startswith("Theme")]
        else:
            path = site.pick()
            tags = rng.sample(SPELLINGS, rng.randint(1, 3))
            # now and then a company, or the topic named as one
            tags += ["Alibaba"] if step % 8 == 1 else ["Ant Group"] if step % 8 == 3 else []
        site.edit(partial(retag, tags=tags), path)
        before, topics = len(made), set(os.listdir(site.root / "site/topics"))
        years_before = theme_years(site, theme)
        site.build(site.root / "site")
        if len(made) == before:
            patched += 1
            now = set(os.listdir(site.root / "site/topics"))
            made_topics += bool(now - topics)
            emptied_topics += bool(topics - now)
            years_laid += theme_years(site, theme) != years_before
        site.build(tmp_path / f"clean-{step}", cache_dir="")
        assert snapshot(site.root / "site") == snapshot(tmp_path / f"clean-{step}"), \
            f"step {step}: {path.name} re-tagged"
    assert patched >= STEPS // 4, f"only {patched} of {STEPS} moves patched the model"
    assert made_topics and emptied_topics, "topics made and emptied by patches"
    assert years_laid, "a topic's years added and dropped by patches"


def tags_of(site: Site, path: Path) -> list[str]:
    tags = site.read(path)[0]["tags"]
    assert isinstance(tags, list)
    return tags


def pick_of_another_year(site: Site, path: Path) -> Path:
    """An article dated in the other of the two years (make_project: by number)."""
    return site.rng.choice([other for other in site.articles()
                            if int(other.stem[1:]) % 2 != int(path.stem[1:]) % 2])


def theme_years(site: Site, theme: str) -> set[str]:
    folder = site.root / "site/topics" / theme.lower().replace(" ", "-")
    return {p.name for p in folder.iterdir() if p.name.isdigit()} if folder.is_dir() else set()


def test_every_unit_key_is_its_first_site_path(example_site: Path) -> None:
    """Units are carried over a refiling by key: list_recipes must name each unit by
    the site path of the first output its recipe makes."""
    from digest.build import load
    from digest.config import load_config
    from digest.errors import Diagnostics
    from digest.plan import OutputPlan
    from digest.urls import Urls

    (example_site / "content/articles/2023/aliased.md").write_text(
        "---\ntitle: Aliased\ndate: 2023-05-02\naliases: [old/path/, older/path/]\n"
        "tags: [cloud]\n---\nText.\n", encoding="utf-8")
    config = load_config(example_site, {"cache_dir": ""})
    site, _ = load(config, Diagnostics())
    plan = OutputPlan(site, Urls(config.base_url))
    firsts = [unit[0].site_path for unit in plan.units if unit]
    assert len(firsts) == len(plan.keys) == len(plan.recipes)
    assert plan.keys == firsts
    assert "old/path/" in plan.keys and "feed.xml" in plan.keys
