"""Feed data: the entries of the site feed, each topic's and each company's (the company
feed is its timeline as a feed). Pure: the templates in templates/feeds/ write the XML and
JSON, as Zola does; this module only decides what goes in."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice

from digest.editions import NOUNS, Edition, Group, edition_groups, finished
from digest.model import ArticlePage, CompanyPage, Site, TopicPage
from digest.urls import EDITIONS, Urls

FEED_FILES = {"atom": "feed.xml", "rss": "rss.xml", "json": "feed.json"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # "updated" of a feed with no entries
# Topic and company feeds carry summaries whatever `feed_content` says: with full text,
# 365 feeds × 3 formats × 20 entries repeated each article body up to 40 times and made
# three fifths of a 10,000-article site (290 of 480 MB). Readers follow the link.
TERM_FEEDS_FULL = False


@dataclass(frozen=True)
class FeedEntry:
    id: str  # absolute URL, stable across builds
    url: str
    title: str
    published: datetime
    updated: datetime
    summary: str
    content: ArticlePage | None  # whose body the entry carries ("full" feeds); the
    # templates call content_html(entry), resolved only when the feed is rendered
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    page: ArticlePage | None = field(compare=False, repr=False)  # the article it comes from
    # an edition's entry carries the whole edition (what RSS-to-email services send),
    # in its groups (made once here: the entry's content and what it shows use them)
    edition: Edition | None = field(default=None, compare=False, repr=False)
    groups: list[Group] = field(default_factory=list, compare=False, repr=False)


@dataclass(frozen=True)
class Feed:
    title: str
    description: str
    home_url: str  # absolute URL of the page the feed mirrors
    folder: str  # site path the feed files live in ("" or "topics/ipo/")
    entries: list[FeedEntry]

    @property
    def updated(self) -> datetime:
        return max((e.updated for e in self.entries), default=EPOCH)


def article_entry(page: ArticlePage, urls: Urls, full: bool) -> FeedEntry:
    article = page.article
    url = urls.absolute(page.url)
    return FeedEntry(
        id=url, url=url, title=article.title, published=page.local_date,
        updated=page.local_updated or page.local_date,
        summary=article.summary,
        content=page if full else None,
        authors=article.authors,
        categories=tuple(c.name for c in page.companies) + tuple(t.name for t in page.topics),
        page=page,
    )


def site_feed(site: Site, urls: Urls) -> Feed:
    full = site.config.feed_content == "full"
    entries = [article_entry(p, urls, full) for p in site.articles[: site.config.feed_entries]]
    return Feed(site.config.title, site.config.description, urls.absolute(""), "", entries)


def topic_feed(topic: TopicPage, site: Site, urls: Urls) -> Feed:
    entries = [article_entry(p, urls, TERM_FEEDS_FULL)
               for p in topic.articles[: site.config.feed_entries]]
    description = topic.entry.description if topic.entry and topic.entry.description else ""
    return Feed(f"{topic.name} · {site.config.title}", description or f"Articles about "
                f"{topic.name}", urls.absolute(topic.url), topic.url, entries)


def company_feed(company: CompanyPage, site: Site, urls: Urls, labels: dict[str, str]) -> Feed:
    """The company's timeline: its articles, and the dated events they report."""
    items = (item for _year, months in company.timeline for month in months
             for item in month.entries)
    entries = []
    for item in islice(items, site.config.feed_entries):  # newest first: the first N
        entry = article_entry(item.article, urls, TERM_FEEDS_FULL)
        if item.kind != "article":
            moment = datetime(item.date.year, item.date.month, item.date.day,
                              tzinfo=site.config.tz)
            entry = FeedEntry(
                id=f"{entry.url}#{item.anchor}", url=f"{entry.url}#{item.anchor}",
                title=f"{labels[item.kind]}: {item.title}", published=moment,
                updated=moment, summary=f"{company.name}: {item.title}",
                content=None, authors=(), categories=(labels[item.kind],), page=item.article)
        entries.append(entry)
    return Feed(f"{company.name} · {site.config.title}", f"Timeline of {company.name}",
                urls.absolute(company.url), company.url, entries)


def fed_articles(site: Site, urls: Urls) -> frozenset[str]:
    """The files of the articles whose body a feed carries: editing one changes the
    feed as well as its page (express.py)."""
    feeds = [site_feed(site, urls)]
    if TERM_FEEDS_FULL:
        labels: defaultdict[str, str] = defaultdict(str)  # (titles only: not the content)
        feeds += [topic_feed(topic, site, urls) for topic in site.topics]
        feeds += [company_feed(company, site, urls, labels) for company in site.companies]
    return frozenset(entry.content.article.path for feed in feeds for entry in feed.entries
                     if entry.content is not None)


def editions_feed(site: Site, urls: Urls) -> Feed:
    """One entry per finished edition, newest first: the running period joins when it
    ends (or with --future), as a scheduled article does when it comes due."""
    entries = []
    for edition in finished(site.editions)[: site.config.feed_entries]:
        url = urls.absolute(edition.url)
        grouped = edition_groups(edition, site.config.edition_group)
        groups = [g.name for g in grouped if g.url is not None]
        count = len(edition.articles)
        about = f" on {', '.join(groups[:3])}" + (" and more" if len(groups) > 3 else "") \
            if groups else ""
        summary = edition.note.summary if edition.note and edition.note.summary else \
            f"{count} article{'s' if count != 1 else ''}{about}, {edition.dates}."
        title = f"{edition.label}: {edition.note.title}" if edition.note and \
            edition.note.title else edition.label if site.config.editions == "daily" \
            else f"{edition.label}, {edition.dates}"  # (a day's label is its date)
        updated = max([edition.ends_at, *(p.modified for p in edition.articles)])
        entries.append(FeedEntry(id=url, url=url, title=title, published=edition.ends_at,
                                 updated=updated, summary=summary, content=None, authors=(),
                                 categories=tuple(groups), page=None, edition=edition,
                                 groups=grouped))
    return Feed(f"Editions · {site.config.title}", f"Every {NOUNS[site.config.editions]}'s "
                f"digest of {site.config.title}", urls.absolute(EDITIONS), EDITIONS, entries)


