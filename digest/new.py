"""`digest new`: a new article file with complete front matter, never over an existing one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from slugify import slugify

from digest.cache import MarkdownCache
from digest.config import Config
from digest.content import load_content
from digest.entries import url_slug
from digest.errors import BuildError, Diagnostic, Diagnostics, did_you_mean
from digest.model import Resolver


@dataclass(frozen=True)
class NewArticle:
    path: Path
    warnings: list[Diagnostic]


def quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML scalar


def resolve_companies(config: Config, names: list[str]) -> tuple[list[str], list[Diagnostic]]:
    """Registry names for what the editor typed (any case, any alias)."""
    diagnostics = Diagnostics()
    content = load_content(config, diagnostics, MarkdownCache(None))[0]
    resolver = Resolver(content, diagnostics)
    registered = [c.name for c in content.companies]
    resolved, warnings = [], []
    for name in names:
        page = resolver.known_company(name)
        if page is None:
            warnings.append(Diagnostic(
                "--company", 0, 0, f"company '{name}' is not in the registry", "warning",
                did_you_mean(name, registered) or
                f"add content/companies/{slugify(name)}.md to give it a page"))
        resolved.append(page.name if page else name)
    return resolved, warnings


def create_article(config: Config, title: str, moment: datetime, companies: list[str],
                   tags: list[str]) -> NewArticle:
    slug = url_slug(title)
    if not slug:
        raise BuildError([Diagnostic("title", 0, 0, f"cannot make a file name from '{title}'",
                                     hint="use a title with letters or digits")])
    local = moment.astimezone(config.tz)
    path = config.content_path / "articles" / f"{local:%Y}" / f"{slug}.md"
    names, warnings = resolve_companies(config, companies)
    lines = [
        "---",
        f"title: {quoted(title)}",
        f"date: {local:%Y-%m-%d %H:%M}",
        "draft: true",
        'summary: ""',
        f"tags: [{', '.join(quoted(t) for t in tags)}]",
        f"companies: [{', '.join(quoted(n) for n in names)}]",
        "# source: {name: Reuters, url: https://…}",
        "# authors: [Your Name]",
        "# events:",
        f"#   - {{date: {local:%Y-%m-%d}, company: {quoted(names[0] if names else 'Company')}, "
        "type: other, title: \"…\"}",
        "---",
        "Write the article here. Remove `draft: true` to publish it.",
        "",
    ]
    made = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write("\n".join(lines))
    except OSError as error:
        for folder in made:  # leave no empty folder behind
            folder.rmdir()
        if not isinstance(error, FileExistsError):
            raise BuildError([Diagnostic(str(path), 0, 0,
                                         f"cannot write the article: {error.strerror}")]
                             ) from None
        shown = path.relative_to(config.root).as_posix()
        raise BuildError([Diagnostic(shown, 0, 0, "an article with this file name exists",
                                     hint="choose another title; digest never overwrites "
                                          "a file")]) from None
    return NewArticle(path, warnings)
