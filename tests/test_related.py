"""Related articles: the ranking patched after a few articles are refiled equals the
ranking made afresh (model.assign_related with a RelatedMemo)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

import digest.model
from digest.model import ArticlePage, CompanyPage, RelatedMemo, TopicPage, assign_related

MOMENT = datetime(2024, 1, 1, tzinfo=UTC)


def model(rng: random.Random, count: int, filed: list[tuple[set[int], set[int]]]
          ) -> tuple[list[ArticlePage], list[CompanyPage], list[TopicPage]]:
    """`count` articles newest first, article i under companies/topics `filed[i]`."""
    pages = [ArticlePage(SimpleNamespace(path=f"a{number}.md"),  # type: ignore[arg-type]
                         f"a{number}/", MOMENT, None, 1, MOMENT, 0.0)
             for number in range(count)]
    companies = [CompanyPage(f"c{n}", f"C{n}", None, f"companies/c{n}/") for n in range(12)]
    topics = [TopicPage(f"t{n}", f"T{n}", None, f"topics/t{n}/") for n in range(8)]
    for page, (on, about) in zip(pages, filed, strict=True):
        page.companies = [companies[n] for n in sorted(on)]
        page.topics = [topics[n] for n in sorted(about)]
        for company in page.companies:
            company.articles.append(page)
        for topic in page.topics:
            topic.articles.append(page)
    return pages, companies, topics


def filing(rng: random.Random) -> tuple[set[int], set[int]]:
    return ({rng.randrange(12) for _ in range(rng.randint(0, 2))},
            {rng.randrange(8) for _ in range(rng.randint(0, 3))})


def related_urls(pages: list[ArticlePage]) -> list[list[str]]:
    return [[other.url for other in page.related] for page in pages]


@pytest.mark.parametrize("seed", range(6))
def test_refiled_articles_rank_as_a_fresh_ranking_does(seed: int) -> None:
    rng = random.Random(seed)
    count = 400
    filed = [filing(rng) for _ in range(count)]
    memo = RelatedMemo()
    assign_related(*model(rng, count, filed), 4, memo)
    for _ in range(8):
        for number in rng.sample(range(count), rng.choice([1, 2, 5, 30])):
            filed[number] = filing(rng)
        patched = model(rng, count, filed)
        assign_related(*patched, 4, memo)
        fresh = model(rng, count, filed)
        assign_related(*fresh, 4)
        assert related_urls(patched[0]) == related_urls(fresh[0])


@pytest.mark.parametrize("seed", range(4))
def test_refiled_in_place_ranks_as_a_fresh_ranking_does(seed: int) -> None:
    """As refile.py does: the very pages refiled, only the refiled positions named."""
    rng = random.Random(seed)
    count = 400
    filed = [filing(rng) for _ in range(count)]
    memo = RelatedMemo()
    pages, companies, topics = model(rng, count, filed)
    assign_related(pages, companies, topics, 4, memo)
    for _ in range(8):
        numbers = rng.sample(range(count), rng.choice([1, 2, 5, 30]))
        for number in numbers:
            filed[number] = filing(rng)
            pages[number].companies = [companies[n] for n in sorted(filed[number][0])]
            pages[number].topics = [topics[n] for n in sorted(filed[number][1])]
        for company in companies:  # their lists, newest first, as the model's
            company.articles = [page for page in pages
                                if any(company is mine for mine in page.companies)]
        for topic in topics:
            topic.articles = [page for page in pages
                              if any(topic is mine for mine in page.topics)]
        untouched = [page.related for page in pages]
        assign_related(pages, companies, topics, 4, memo, refiled=numbers)
        fresh = model(rng, count, filed)
        assign_related(*fresh, 4)
        assert related_urls(pages) == related_urls(fresh[0])
        assert sum(page.related is not before for page, before in
                   zip(pages, untouched, strict=True)) < count, "only the ranked ones set"


def test_forked_workers_rank_as_this_process_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """A large site is ranked by forked workers, span by span (model.rank_all)."""
    rng = random.Random(9)
    count = 400
    filed = [filing(rng) for _ in range(count)]
    serial = model(rng, count, filed)
    assign_related(*serial, 4)
    monkeypatch.setattr(digest.model, "PARALLEL_RANKING", 10)
    forked = model(rng, count, filed)
    assign_related(*forked, 4)
    assert related_urls(forked[0]) == related_urls(serial[0])
    assert sum(map(len, (page.related for page in forked[0]))) > count
