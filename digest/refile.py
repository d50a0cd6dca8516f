"""Re-tagged articles put into a kept model (issue 8): an edit that moves an article
between topics changes only the article, the lists of those topics (made or emptied
ones too), the topic index and the related lists near it, so the model is patched
instead of made again.

Only that case is taken. Whatever could change more returns None, and the model is
made afresh: a tag that names a company (it files the article under the company), a
topic whose most used spelling (its name) changes, a new topic whose URL something
else claims, any other field of the article's shape changed. A topic made or emptied,
or one that gains or loses a year or a year's page, is taken: the output plan carries
its other units over by their keys (plan.OutputPlan.carry_map)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from digest.entries import Article, Mention
from digest.model import (
    ArticlePage,
    RelatedMemo,
    Site,
    TopicPage,
    assign_related,
    shape,
    slugify,
    topic_year_per_page,
    topic_years,
)
from digest.urls import topic_path


@dataclass
class Refiling:
    """What a patch by `refile` changed besides the articles themselves."""

    topics: set[str]  # slugs of the topics an article joined or left (made, emptied)
    related: set[int]  # positions (in site.articles) whose related list changed
    relaid: bool  # units were added or dropped: a topic made or emptied, a list resized
    listed: bool = False  # the plan was made after the move (its recipes list it)


@dataclass
class Move:
    page: ArticlePage
    article: Article  # as edited
    topics: list[TopicPage]  # the topics its tags name now, A-Z


def refilable(old: Article, new: Article) -> bool:
    """Whether the two differ in shape only in their tags."""
    return old.tags != new.tags and shape(old, with_tags=False) == shape(new, with_tags=False)


class Names:
    """How model.Resolver maps a tag to a topic, read back from a finished model. It
    knows every company name at once (a build meets unregistered ones one by one), so
    it may see a company where a build saw a topic: it then declines."""

    def __init__(self, site: Site) -> None:
        self.company_keys: set[str] = set()
        for company in site.companies:
            self.company_keys.add(company.slug.casefold())
            if company.entry is not None:
                self.company_keys.update(name.casefold() for name in
                                         (company.entry.name, *company.entry.aliases))
        self.topic_keys: dict[str, TopicPage] = {}
        for topic in site.topics:
            if topic.entry is not None:
                for name in (topic.slug, topic.entry.name, *topic.entry.aliases):
                    self.topic_keys.setdefault(name.casefold(), topic)
        self.by_slug = {topic.slug: topic for topic in site.topics}
        self.created: dict[str, TopicPage] = {}  # topics the tags make, by slug
        # each name's answers, once: a re-tag reads the tags of every article of the
        # topics it touches (10,000 at 10k articles), a few dozen names, and slugify
        # costs 10 µs a call
        self.company_names: dict[str, bool] = {}
        self.topic_names: dict[str, TopicPage | None] = {}

    def names_company(self, name: str) -> bool:
        known = self.company_names.get(name)
        if known is None:
            known = self.company_names[name] = name.casefold() in self.company_keys \
                or slugify(name) in self.company_keys
        return known

    def topic(self, mention: Mention) -> TopicPage | None:
        """The topic a tag files under (made, if new); None when it may be a company."""
        name = mention.name
        if name in self.topic_names:
            return self.topic_names[name]
        found = None
        if not self.names_company(name):
            found = self.topic_keys.get(name.casefold())
            if found is None:
                slug = slugify(name) or "topic"
                found = self.by_slug.get(slug) or self.created.get(slug)
                if found is None:
                    found = self.created[slug] = TopicPage(slug, name, None, topic_path(slug))
        self.topic_names[name] = found
        return found

    def topics(self, tags: tuple[Mention, ...]) -> list[TopicPage] | None:
        found: dict[str, TopicPage] = {}
        for mention in tags:
            topic = self.topic(mention)
            if topic is None:
                return None
            found.setdefault(topic.slug, topic)
        return sorted(found.values(), key=lambda t: t.name.casefold())

    def settled_name(self, topic: TopicPage, articles: list[Article]) -> str | None:
        """An unregistered topic's name after the move: its most used spelling among
        the tags of its articles (model.Resolver.settle_topic_names); None if unsure."""
        spellings: Counter[str] = Counter()
        for article in articles:
            for mention in article.tags:
                if self.topic(mention) is topic:
                    spellings[mention.name] += 1
                elif self.names_company(mention.name) and \
                        slugify(mention.name) == topic.slug:
                    return None  # counted by the build or not: cannot tell
        return min(spellings, key=lambda s: (-spellings[s], s)) if spellings else None


def plan_moves(site: Site, changed: list[Article]) -> list[Move] | None:
    """The moves that put `changed` into `site` (empty: no article was re-tagged), or
    None when the model must be made afresh. Changes nothing."""
    pages = {page.article.path: page for page in site.articles}
    retagged = [(pages[a.path], a) for a in changed
                if a.path in pages and pages[a.path].article.tags != a.tags]
    if not retagged:
        return []
    if any(not refilable(page.article, article) for page, article in retagged):
        return None
    names = Names(site)
    moves = []
    for page, article in retagged:
        before, after = names.topics(page.article.tags), names.topics(article.tags)
        # the tags read as the build read them, or not at all
        if before is None or after is None or \
                [id(t) for t in before] != [id(t) for t in page.topics]:
            return None
        moves.append(Move(page, article, after))
    members = topic_members(site, moves)
    edited = {id(move.page): move.article for move in moves}
    # every topic named before or after: one the article stays in may be named by its
    # spelling of the tag
    touched = {id(topic): topic for move in moves for topic in (*move.page.topics,
                                                                 *move.topics)}
    for topic in touched.values():
        now = members.get(topic, topic.articles)
        if topic.entry is not None or not now:
            continue  # registered: named by its file; emptied: dropped
        after_name = names.settled_name(topic, [edited.get(id(p), p.article) for p in now])
        if topic.slug in names.created:
            if after_name is None:
                return None
            topic.name = after_name  # (a topic made here, not in the model yet)
            continue
        before_name = names.settled_name(topic, [p.article for p in topic.articles])
        if before_name != topic.name or after_name != topic.name:
            return None
    if names.created:
        claimed = {page.url for page in site.articles} | {company.url for company in
                                                          site.companies}
        claimed.update(alias for page in site.articles for alias in page.article.aliases)
        if any(topic.url in claimed for topic in names.created.values()):
            return None  # a URL clash, which a new model reports
    for move in moves:  # (in the order of names now settled)
        move.topics.sort(key=lambda t: t.name.casefold())
    return moves


def topic_layout(topic: TopicPage, articles: list[ArticlePage], per_page: int
                 ) -> list[tuple[int, int]]:
    """The pages a topic with `articles` has besides its own: (year, how many), as
    plan.OutputPlan lays them out (model.topic_years, paginated as plan.paginate)."""
    return [(value.year, max(1, -(-len(value.articles) // topic_year_per_page(per_page))))
            for value in topic_years(topic.slug, articles, per_page)]


def topic_members(site: Site, moves: list[Move]) -> dict[TopicPage, list[ArticlePage]]:
    """The new article lists (newest first, as the model keeps them) of the topics
    any move joins or leaves."""
    position = {id(page): number for number, page in enumerate(site.articles)}
    members: dict[TopicPage, list[ArticlePage]] = {}
    for move in moves:
        before = {id(t): t for t in move.page.topics}
        after = {id(t): t for t in move.topics}
        for key in before.keys() ^ after.keys():
            topic = before.get(key) or after[key]
            current = members.setdefault(topic, list(topic.articles))
            if key in before:
                current.remove(move.page)
            else:
                current.append(move.page)
                current.sort(key=lambda page: position[id(page)])
    return members


def refile(site: Site, moves: list[Move], memo: RelatedMemo | None) -> Refiling:
    """Apply `moves` (from plan_moves; the articles themselves are put in by
    model.patch_site) and rank related articles again where the moves reach."""
    members = topic_members(site, moves)
    per_page = site.config.per_page
    relaid = any(topic_layout(topic, now, per_page) !=
                 topic_layout(topic, topic.articles, per_page)
                 or not now or not topic.articles for topic, now in members.items())
    for move in moves:
        move.page.topics = move.topics
    for topic, now in members.items():
        topic.articles = now
    if relaid:  # topics made join the model, unregistered ones emptied leave it
        known = {id(topic) for topic in site.topics}
        site.topics = sorted([*(t for t in site.topics if t.articles or t.entry is not None),
                              *(t for t in members if id(t) not in known)],
                             key=lambda t: (t.name.casefold(), t.slug))
    before = [page.related for page in site.articles]
    moved = {id(move.page) for move in moves}
    assign_related(site.articles, site.companies, site.topics, site.config.related_count,
                   memo, refiled=[number for number, page in enumerate(site.articles)
                                  if id(page) in moved])
    related = {number for number, (page, old) in enumerate(zip(site.articles, before,
                                                                strict=True))
               if page.related != old}
    site.resolver = None  # its tallies are the last build's
    return Refiling({topic.slug for topic in members}, related, relaid)
