"""`digest import`: plain-text, HTML and Markdown news articles (Jekyll and Hugo posts
included) become digest articles marked `draft: true` for review. Never overwrites."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from slugify import slugify

from digest.cache import MarkdownCache
from digest.config import Config
from digest.content import load_content
from digest.entries import CompanyEntry, TopicEntry
from digest.errors import Diagnostics
from digest.fields import parse_datetime
from digest.frontmatter import load_yaml
from digest.new import quoted

SUFFIXES = {".txt", ".text", ".html", ".htm", ".md", ".markdown"}
# Lines that are page furniture, not reporting: vote widgets, share bars, cookie notices.
BOILERPLATE = re.compile(
    r"^\s*(no votes yet\.?|please wait\.*|loading\.*|share( this( article)?)?:?|"
    r"(click to )?share on \w+.*|tweet|print|email|subscribe( now| to our newsletter)?.*|"
    r"sign up for (our|the) newsletter.*|follow us on .*|advertisement|sponsored|"
    r"read more:?.*|related( articles| stories)?:?|we use cookies.*|.*accept (all )?cookies.*|"
    r"this (web)?site uses cookies.*|rate this( article)?:?|\d+ comments?|leave a comment|"
    r"(image|photo) (credit|source):.*|copyright ©.*|all rights reserved\.?)\s*$",
    re.IGNORECASE)
LIQUID = re.compile(r"{%-?\s*(?:raw|endraw)\s*-?%}|{%-?.*?-?%}|{{-?.*?-?}}", re.DOTALL)
SHORTCODE = re.compile(r"{{[<%]\s*/?\s*[\w./-]+[^}]*?[>%]}}", re.DOTALL)
DATED_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")
MAPPED = {"title", "date", "categories", "category", "tags", "author", "authors", "summary",
          "description", "excerpt", "slug", "draft", "published", "aliases", "lang",
          "permalink", "url", "redirect_from"}
POST_URL = re.compile(r"{%-?\s*post_url\s+([\w./-]+?)\s*-?%}")
POST_LINK = "digest-import-post:"  # stands for a post_url until its new file is known


@dataclass
class Imported:
    source: Path
    title: str
    date: datetime
    body: str
    summary: str = ""
    tags: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    companies: list[str] = field(default_factory=list)
    source_name: str = ""
    source_url: str = ""
    slug: str = ""
    aliases: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # front-matter keys left behind


@dataclass(frozen=True)
class Written:
    source: Path
    target: Path
    text: str
    written: bool


def clean_lines(lines: list[str], title: str) -> list[str]:
    """Drop boilerplate lines and every repetition of the headline."""
    kept = []
    for line in lines:
        if BOILERPLATE.match(line) or (title and line.strip() == title.strip()):
            continue
        kept.append(line.rstrip())
    return kept


def paragraphs(lines: list[str]) -> str:
    """Blank-line separated paragraphs; a text with one paragraph a line keeps its lines."""
    blocks, current = [], []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(" ".join(current))
            current = []
    if current:
        blocks.append(" ".join(current))
    return "\n\n".join(blocks)


def from_text(path: Path, text: str, now: datetime) -> Imported:
    lines = text.splitlines()
    title = next((line.strip() for line in lines if line.strip()), path.stem)
    return Imported(path, title, now, paragraphs(clean_lines(lines, title)))


class ArticleExtractor(HTMLParser):
    """Headline, date, source and paragraphs of a news page, skipping page furniture."""

    SKIP = frozenset({"script", "style", "nav", "header", "footer", "aside", "form", "noscript",
                      "button", "figure", "svg", "iframe"})
    BLOCKS = frozenset({"p", "h2", "h3", "h4", "li", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.h1 = ""
        self.title = ""
        self.time = ""
        self.blocks: list[str] = []
        self._skip = 0
        self._text: list[str] | None = None
        self._tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag in self.SKIP:
            self._skip += 1
        elif tag == "meta":
            key = values.get("property") or values.get("name") or ""
            self.meta.setdefault(key.lower(), values.get("content", ""))
        elif tag == "link" and values.get("rel") == "canonical":
            self.meta.setdefault("canonical", values.get("href", ""))
        elif tag == "time" and not self.time:
            self.time = values.get("datetime", "")
        elif tag in self.BLOCKS | {"h1", "title"} and not self._skip:
            self._text, self._tag = [], tag

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == self._tag and self._text is not None:
            text = re.sub(r"\s+", " ", "".join(self._text)).strip()
            if tag == "h1" and not self.h1:
                self.h1 = text
            elif tag == "title":
                self.title = text
            elif text:
                self.blocks.append(f"## {text}" if tag in ("h2", "h3", "h4") else text)
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None and not self._skip:
            self._text.append(data)


def from_html(path: Path, text: str, now: datetime, zone: Any) -> Imported:
    page = ArticleExtractor()
    page.feed(text)
    page.close()
    title = page.h1 or page.meta.get("og:title") or page.title or path.stem
    published = page.meta.get("article:published_time") or page.time
    moment = parse_datetime(published[:25].replace("Z", "+00:00"), zone) if published else None
    body = "\n\n".join(clean_lines(page.blocks, title))
    return Imported(path, title, moment or now, body,
                    summary=page.meta.get("description", ""),
                    source_name=page.meta.get("og:site_name", ""),
                    source_url=page.meta.get("canonical") or page.meta.get("og:url", ""))


def as_list(value: Any, words: bool = False) -> list[str]:
    """A list, or a string split at commas (and, with words=True, at spaces too, as Jekyll
    reads "categories: news cloud")."""
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[,\s]+" if words else ",", value)
                if part.strip()]
    if isinstance(value, list):
        return [str(item) for item in value if item not in (None, "")]
    return [] if value is None else [str(value)]


def from_markdown(path: Path, text: str, now: datetime, zone: Any,
                  diagnostics: Diagnostics, shown: str) -> Imported | None:
    """A Jekyll or Hugo post: YAML (---) or TOML (+++) front matter, Liquid, shortcodes."""
    data: dict[str, Any] = {}
    body = text
    fence = text.split("\n", 1)[0].strip()
    if fence in ("---", "+++"):
        end = text.find(f"\n{fence}", len(fence))
        if end < 0:
            diagnostics.error(shown, 1, 1, "front matter is not closed",
                              f"add a line '{fence}' after the front matter, then import again")
            return None
        block, body = text[len(fence):end], text[end + len(fence) + 1:]
        try:
            loaded = tomllib.loads(block) if fence == "+++" else load_yaml(block)
        except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
            # The block starts with the newline after the fence, so its line N is file line N.
            mark = getattr(error, "problem_mark", None)
            where = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
            line, column = ((mark.line + 1, mark.column + 1) if mark else
                            (int(where[1]), int(where[2])) if where else (1, 1))
            message = re.sub(r"\s*\(at line.*\)$", "", str(error).splitlines()[0])
            if isinstance(error, yaml.MarkedYAMLError) and error.problem:
                message = error.problem
            diagnostics.error(shown, line, column, f"cannot read the front matter: {message}",
                              "fix the YAML/TOML syntax (quote values with ':'), then import "
                              "again")
            return None
        data = loaded if isinstance(loaded, dict) else {}
    name = DATED_NAME.match(path.stem)
    raw_date = data.get("date") or (name.group(1) if name else None)
    moment = None
    if isinstance(raw_date, datetime):
        moment = raw_date if raw_date.tzinfo else raw_date.replace(tzinfo=zone)
    elif raw_date is not None:
        text_date = str(raw_date).strip()
        moment = parse_datetime(text_date[:25], zone) or \
            parse_datetime(re.sub(r"\s+([+-]\d{2}):?(\d{2})$", r"\1:\2", text_date)
                           .replace(" ", "T", 1), zone)
    if moment is None:
        line = next((i for i, ln in enumerate(text.splitlines(), 1)
                     if ln.startswith("date")), 1)
        diagnostics.error(shown, line, 1,
                          f"no usable date (found {raw_date!r})" if raw_date
                          else "no date in the front matter or the file name",
                          "add 'date: YYYY-MM-DD' or name the file YYYY-MM-DD-title.md")
        return None
    title = str(data.get("title") or "").strip() or (
        name.group(2).replace("-", " ").capitalize() if name else "")
    if not title:
        diagnostics.error(shown, 1, 1, "no title", "add 'title: …' to the front matter")
        return None
    tags = as_list(data.get("tags"), True) + as_list(data.get("categories"), True) + \
        as_list(data.get("category"), True)
    draft = data.get("draft") is True or data.get("published") is False
    # {% post_url 2023-05-02-name %} names another post: kept as a marker that
    # import_files turns into a link to that post's new file.
    body = POST_URL.sub(lambda m: f"{POST_LINK}{m.group(1)}", body)
    body = SHORTCODE.sub("", LIQUID.sub("", body)).strip()
    return Imported(path, title, moment, body,
                    summary=str(data.get("summary") or data.get("description")
                                or data.get("excerpt") or "").strip(),
                    tags=list(dict.fromkeys(tags)),
                    authors=as_list(data.get("authors")) + as_list(data.get("author")),
                    slug=str(data.get("slug") or ""),
                    aliases=list(dict.fromkeys(
                        as_list(data.get("aliases")) + as_list(data.get("redirect_from"))
                        + old_addresses(data, name, tags))),
                    dropped=sorted(k for k in data if k not in MAPPED) + (
                        ["draft/published"] if draft else []))


def old_addresses(data: dict[str, Any], name: re.Match[str] | None, tags: list[str]
                  ) -> list[str]:
    """Where the post lived on the old site, kept as aliases so old links still work:
    its own `permalink:` (Jekyll) or `url:` (Hugo), else Jekyll's default address of a
    dated post (/:categories/:year/:month/:day/:title.html)."""
    for key in ("permalink", "url"):
        value = data.get(key)
        if isinstance(value, str) and value.startswith("/") and ":" not in value:
            return [value]
    if name is None or data.get("permalink") is not None:
        return []
    categories = as_list(data.get("categories"), True) + as_list(data.get("category"), True)
    day = name.group(1).replace("-", "/")
    prefix = "".join(f"/{slugify(c)}" for c in categories if slugify(c))
    return [f"{prefix}/{day}/{name.group(2)}.html"]


def suggest(imported: Imported, companies: list[CompanyEntry], topics: list[TopicEntry]
            ) -> None:
    """Companies and topics the text names, matched against the registry (Chinese too)."""
    text = f"{imported.title}\n{imported.body}"
    def named(name: str) -> bool:
        if not name.isascii():
            return name in text
        return re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE) is not None
    listed = {t.casefold() for t in imported.tags}
    for company in companies:
        if any(named(n) for n in (company.name, *company.aliases) if len(n) >= 3 or
               not n.isascii()):
            imported.companies.append(company.name)
            listed.discard(company.name.casefold())
    for topic in topics:
        if topic.name.casefold() not in listed and any(named(n) for n in
                                                        (topic.name, *topic.aliases)):
            imported.tags.append(topic.name)


def front_matter(imported: Imported, dropped_note: bool) -> str:
    lines = ["---", f"title: {quoted(imported.title)}",
             f"date: {imported.date:%Y-%m-%d %H:%M}", "draft: true"]
    if imported.slug:
        lines.append(f"slug: {quoted(imported.slug)}")
    if imported.summary:
        lines.append(f"summary: {quoted(imported.summary)}")
    if imported.source_name or imported.source_url:
        source = {"name": imported.source_name or "Imported report"}
        if imported.source_url.startswith(("http://", "https://")):
            source["url"] = imported.source_url
        lines.append("source: {" + ", ".join(f"{k}: {quoted(v)}" for k, v in source.items())
                     + "}")
    else:
        lines.append("# source: {name: …, url: https://…}")
    for key, values in (("authors", imported.authors), ("tags", imported.tags),
                        ("companies", imported.companies), ("aliases", imported.aliases)):
        if values:
            lines.append(f"{key}: [{', '.join(quoted(v) for v in values)}]")
    lines.append(f"# imported from {imported.source.name}; review, then remove draft: true")
    if dropped_note and imported.dropped:
        lines.append(f"# not carried over: {', '.join(imported.dropped)}")
    return "\n".join([*lines, "---", imported.body, ""])


def import_files(config: Config, inputs: list[Path], now: datetime, dry_run: bool,
                 diagnostics: Diagnostics) -> list[Written]:
    # Only the registry is needed, and nothing may be written by a dry run: no cache.
    content = load_content(config, Diagnostics(), MarkdownCache(None))[0]
    files = sorted({p for given in inputs
                    for p in ([given] if given.is_file() else given.rglob("*"))
                    if p.is_file() and p.suffix.lower() in SUFFIXES})
    if not files:
        diagnostics.error(", ".join(map(str, inputs)), 0, 0, "nothing to import",
                          "name .txt, .html or .md files, or folders holding them")
    results = []
    planned: list[tuple[Path, Imported, Path]] = []
    taken: set[Path] = set()
    for path in files:
        shown = str(path)
        try:
            text = path.read_text(encoding="utf-8").removeprefix("\ufeff")
        except (UnicodeDecodeError, OSError) as error:
            diagnostics.error(shown, 0, 0, f"cannot read: {error}", "save it as UTF-8 text")
            continue
        suffix = path.suffix.lower()
        imported = (from_text(path, text, now) if suffix in (".txt", ".text")
                    else from_html(path, text, now, config.tz) if suffix in (".html", ".htm")
                    else from_markdown(path, text, now, config.tz, diagnostics, shown))
        if imported is None:
            continue
        # The moment as the site shows it: an offset written in the source (Z, +02:00)
        # is kept by converting, not dropped.
        imported.date = imported.date.astimezone(config.tz)
        suggest(imported, content.companies, content.topics)
        slug = slugify(imported.slug or imported.title) or "imported"
        folder = config.content_path / "articles" / f"{imported.date:%Y}"
        target, number = folder / f"{slug}.md", 1
        while target in taken:  # two posts of this run with one name: both are kept
            number += 1
            target = folder / f"{slug}-{number}.md"
        if target.exists():
            diagnostics.error(shown, 0, 0, f"{target} exists: not overwritten",
                              "rename or move the existing article, then import again")
            continue
        if number > 1:  # and its own URL, which comes from the slug
            imported.slug = target.stem
        taken.add(target)
        planned.append((path, imported, target))
    new_files = {path.stem: target for path, _, target in planned}
    for path, imported, target in planned:
        imported.body = link_posts(imported.body, new_files, target)
        output = front_matter(imported, dropped_note=True)
        if not dry_run:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("x", encoding="utf-8") as handle:
                handle.write(output)
        results.append(Written(path, target, output, not dry_run))
    return results


def link_posts(body: str, new_files: dict[str, Path], target: Path) -> str:
    """Jekyll post_urls as links to the posts' new files (links.py makes them URLs)."""
    def link(match: re.Match[str]) -> str:
        other = new_files.get(Path(match.group(1)).stem)
        if other is None:
            return ""
        return os.path.relpath(other, target.parent).replace(os.sep, "/")
    return re.sub(re.escape(POST_LINK) + r"([\w./-]+)", link, body)
