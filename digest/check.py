"""`digest check`: what the build validates, plus what only an editor's review needs:
links and files that do not resolve, near-miss company and topic names, and registry
companies named in an article's text but not listed in its front matter."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from digest.build import build
from digest.cache import MarkdownCache
from digest.config import Config
from digest.content import read_text
from digest.entries import Article, Mention
from digest.errors import Diagnostic, Diagnostics
from digest.frontmatter import parse_front_matter
from digest.links import find_references, is_external, source_relative
from digest.model import Resolver, Selection, Site

NEAR_MISS = 0.8  # difflib ratio above which two names are taken for the same one


def squash(name: str) -> str:
    """A name without case, spaces or punctuation: 'Ali-Baba group' → 'alibabagroup'."""
    return re.sub(r"[\W_]+", "", name.casefold())


def near_miss(name: str, known: Iterable[str]) -> str | None:
    choices = sorted(set(known))
    for choice in choices:
        if squash(choice) == squash(name) and choice != name:
            return choice
    lowered = {c.casefold(): c for c in choices}
    close = difflib.get_close_matches(name.casefold(), sorted(lowered), n=1, cutoff=NEAR_MISS)
    return lowered[close[0]] if close else None


@dataclass(frozen=True)
class CheckReport:
    problems: list[Diagnostic]  # the build's warnings and the checks' findings, sorted
    articles: int

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.problems if d.severity == "warning")

    @property
    def notes(self) -> int:
        return sum(1 for d in self.problems if d.severity == "note")


def check(config: Config, selection: Selection) -> CheckReport:
    """The build without writing (BuildError on errors), then the editor's checks."""
    with MarkdownCache(config.cache_path) as store:
        result = build(config, write=False, selection=selection, store=store)
        site = result.site
        assert site is not None and site.resolver is not None
        # a link may name a page by its folder ("topics/ipo/") or its file
        published = result.paths | {p.removesuffix("index.html") for p in result.paths}
        articles = [page.article for page in site.articles] + [h.article for h in site.held_back]
        findings = check_site(site, published, site.resolver, articles, store)
    return CheckReport(sorted([*result.warnings, *findings], key=Diagnostic.sort_key),
                       len(articles))


def check_site(site: Site, published: set[str], resolver: Resolver,
               articles: list[Article], store: MarkdownCache) -> list[Diagnostic]:
    diagnostics = Diagnostics()
    root = site.config.root
    sources = {a.path for a in articles}
    company_names = {n: c.name for c in resolver.companies.values() if c.entry
                     for n in (c.name, *c.entry.aliases)}
    topic_names = {t.name for t in resolver.topics.values()}
    listed = {page.article.path: {c.slug for c in page.companies} for page in site.articles}
    for article in articles:
        text = read_text(root / article.path, article.path, diagnostics) or ""
        matter = parse_front_matter(text, article.path, Diagnostics())
        if matter is None:
            continue
        check_references(article.path, matter.body, matter.body_line, published, sources,
                         root, diagnostics)
        check_names(article, resolver, company_names, topic_names, diagnostics)
        if article.path in listed:
            check_mentions(article, store.get(article.body).text, text, listed[article.path],
                           resolver, diagnostics)
    for note in (edition.note for edition in site.editions if edition.note):
        text = read_text(root / note.path, note.path, diagnostics) or ""
        matter = parse_front_matter(text, note.path, Diagnostics())
        if matter is not None:
            check_references(note.path, matter.body, matter.body_line, published, sources,
                             root, diagnostics, files_beside=False)
    return diagnostics.sorted()


def check_references(source: str, body: str, body_line: int, published: set[str],
                     sources: set[str], root: Path, diagnostics: Diagnostics,
                     files_beside: bool = True) -> None:
    """The links and images of the Markdown body of `source`: an article, or an editor's
    note (`files_beside` False: files kept beside a note are not published)."""
    for ref in find_references(body, body_line):
        target = ref.target
        if is_external(target):
            continue
        if target.startswith("/"):
            path = target.split("#")[0].split("?")[0].lstrip("/")
            if path not in published and f"{path}/" not in published \
                    and path.removesuffix("index.html") not in published:
                diagnostics.warning(source, ref.line, ref.column,
                                    f"link to '{target}' matches no page of the site",
                                    near_miss_hint(path, published))
            continue
        path = source_relative(source, target)
        if path.endswith(".md"):
            if path not in sources:
                diagnostics.warning(source, ref.line, ref.column,
                                    f"broken link: '{target}' is not an article",
                                    near_miss_hint(path, sources - {source}))
        elif not files_beside:
            diagnostics.warning(source, ref.line, ref.column,
                                f"'{target}' is beside an editor's note, where files are not "
                                "published", "put it in content/static/ and link it as "
                                "/name, or beside an article")
        elif not (root / path).is_file():
            diagnostics.warning(source, ref.line, ref.column,
                                f"missing file '{target}' (looked for {path})",
                                "put the file there, or fix the path (relative to the "
                                "file's folder)")


def near_miss_hint(name: str, known: Iterable[str]) -> str | None:
    match = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None


def check_names(article: Article, resolver: Resolver, company_names: dict[str, str],
                topic_names: set[str], diagnostics: Diagnostics) -> None:
    mentions: list[tuple[Mention, str]] = [(m, "company") for m in article.companies]
    mentions += [(e.company, "company") for e in article.events]
    mentions += [(m, "tag") for m in article.tags]
    for mention, kind in mentions:
        known = resolver.known_company(mention.name)
        if known is not None and known.entry is not None:
            continue  # a registry company (pages made for unknown names do not count)
        match = near_miss(mention.name, company_names)
        if match:
            company = company_names[match]
            what = f"'{match}'" + (f" ({company})" if match != company else "")
            diagnostics.warning(mention.path, *mention.position,
                                f"{kind} '{mention.name}' looks like the company {what}",
                                f"write '{match}' (or add '{mention.name}' to {company}'s "
                                "aliases)")
        elif kind == "tag" and mention.name not in topic_names:
            topic = near_miss(mention.name, topic_names - {mention.name})
            if topic and squash(topic) != squash(mention.name):
                diagnostics.warning(mention.path, *mention.position,
                                    f"tag '{mention.name}' looks like the topic '{topic}'",
                                    f"write '{topic}', or keep both if they differ")


def check_mentions(article: Article, text: str, source: str, listed: set[str],
                   resolver: Resolver, diagnostics: Diagnostics) -> None:
    """Registry companies the text names but the front matter does not list."""
    for company in resolver.companies.values():
        if company.entry is None or company.slug in listed:
            continue
        for name in (company.name, *company.entry.aliases):
            if len(name) < 3 and name.isascii():
                continue  # too short to tell from an ordinary word
            pattern = re.escape(name) if not name.isascii() else rf"\b{re.escape(name)}\b"
            match = re.search(pattern, text)
            if match:
                found = re.search(pattern, source)
                offset = found.start() if found else 0
                line = source.count("\n", 0, offset) + 1
                column = offset - (source.rfind("\n", 0, offset) + 1) + 1
                diagnostics.note(article.path, line, column,
                                 f"the text names '{name}' ({company.name}) but the "
                                 "article does not list it",
                                 f"add {company.name} to companies:, if it is about it")
                break
