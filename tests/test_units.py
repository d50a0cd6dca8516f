"""Unit tests of the pieces: dates, slugs, URLs, Markdown, name resolution."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import cast
from zoneinfo import ZoneInfo

import pytest

from digest.cache import MarkdownCache
from digest.config import Config, load_config
from digest.content import body_links, load_content
from digest.errors import BuildError, Diagnostics
from digest.fields import parse_datetime
from digest.links import resolve_body
from digest.markup import render_markdown
from digest.model import ArticlePage, Selection, build_site
from digest.render import dateline
from digest.urls import Urls, output_file

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("text, expected", [
    ("2023-05-18", datetime(2023, 5, 18, tzinfo=SHANGHAI)),
    ("2023-05-18 09:30", datetime(2023, 5, 18, 9, 30, tzinfo=SHANGHAI)),
    ("2023-05-18T09:30:15", datetime(2023, 5, 18, 9, 30, 15, tzinfo=SHANGHAI)),
    ("2023-05-18T09:30:00+02:00", datetime(2023, 5, 18, 9, 30,
                                           tzinfo=timezone(timedelta(hours=2)))),
    ("2023-05-18T01:30:00Z", datetime(2023, 5, 18, 1, 30, tzinfo=UTC)),
])
def test_dates_without_offset_are_local_to_the_site(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text, SHANGHAI)
    assert parsed == expected and parsed is not None and parsed.utcoffset() is not None


@pytest.mark.parametrize("text", ["2023-13-01", "18/05/2023", "May 18", "2023-05-18 9am", ""])
def test_unparsable_dates_are_none(text: str) -> None:
    assert parse_datetime(text, SHANGHAI) is None


def test_urls_honour_a_subpath_base() -> None:
    urls = Urls("https://example.github.io/repo/")
    assert urls.path("") == "/repo/"
    assert urls.path("topics/ipo/") == "/repo/topics/ipo/"
    assert urls.absolute("topics/ipo/") == "https://example.github.io/repo/topics/ipo/"
    assert Urls("/").path("companies/") == "/companies/"
    assert output_file("topics/ipo/") == "topics/ipo/index.html"
    assert output_file("404.html") == "404.html"


def page_dated(moment: datetime, has_time: bool = True) -> ArticlePage:
    return cast(ArticlePage, SimpleNamespace(local_date=moment,
                                             article=SimpleNamespace(has_time=has_time)))


def test_each_dateline_reads_as_its_moment_does_there() -> None:
    """Datelines are made once a date: equal instants that read differently (another
    timezone, either side of a clock change) each keep their own."""
    berlin = ZoneInfo("Europe/Berlin")
    shown = [str(dateline(page_dated(moment, has_time))) for moment, has_time in [
        (datetime(2023, 5, 16, 10, 0, tzinfo=UTC), True),
        (datetime(2023, 5, 16, 12, 0, tzinfo=berlin), True),  # the same instant
        (datetime(2023, 5, 16, 12, 0, tzinfo=berlin), False),
        (datetime(2023, 10, 29, 2, 30, tzinfo=berlin), True),  # clocks go back at 3:00
        (datetime(2023, 10, 29, 2, 30, fold=1, tzinfo=berlin), True),
        (datetime(2023, 5, 16, 12, 0, tzinfo=timezone(timedelta(hours=2), "<b>")), True),
    ]]
    assert shown == [
        '<time datetime="2023-05-16T10:00:00+00:00">16 May 2023, 10:00 UTC</time>',
        '<time datetime="2023-05-16T12:00:00+02:00">16 May 2023, 12:00 CEST</time>',
        '<time datetime="2023-05-16T12:00:00+02:00">16 May 2023</time>',
        '<time datetime="2023-10-29T02:30:00+02:00">29 October 2023, 02:30 CEST</time>',
        '<time datetime="2023-10-29T02:30:00+01:00">29 October 2023, 02:30 CET</time>',
        '<time datetime="2023-05-16T12:00:00+02:00">16 May 2023, 12:00 &lt;b&gt;</time>',
    ]


def test_markdown_is_a_pure_function_of_text_and_links_get_the_base_when_shown() -> None:
    text = "## Heading\n\nSee [topics](/topics/) and [abs](https://x.example/).\n\nMore."
    first = render_markdown(text)
    assert render_markdown(text) == first
    assert 'href="/topics/"' in first.html and 'href="https://x.example/"' in first.html
    assert first.first_paragraph == "See topics and abs."
    urls = Urls("https://example.github.io/repo/")
    shown = resolve_body(first.html, "content/articles/a.md", {}, "content/articles/", urls)
    assert 'href="/repo/topics/"' in shown and 'href="https://x.example/"' in shown
    in_feed = resolve_body(first.html, "content/articles/a.md", {}, "content/articles/", urls,
                           absolute=True)
    assert 'href="https://example.github.io/repo/topics/"' in in_feed


def test_a_body_depends_on_the_articles_it_links_to_however_spelled(tmp_path: Path) -> None:
    html = render_markdown(
        "[a](../a.md) [b](other/b.md#part) [c](c%2Emd) [d](d.m%64?x=1) [e](https://x.example/e.md) "
        "[f](/f.md) [g](#g) [h](h.html) [i](https://x.example/i) [j](j%20k.md)\n").html
    assert body_links(html, "content/articles/z.md", load_config(tmp_path)) == (
        "content/a.md", "content/articles/c.md", "content/articles/d.md",
        "content/articles/j k.md", "content/articles/other/b.md")


@pytest.mark.parametrize("target", ["https://x.example/a", "http://x", "HTTPS://x", "mailto:a@b",
                                    "//cdn.example/x", "#part", "ftp://x", "a.md", "../b.md",
                                    "/topics/", "c%2Emd", "https", "http:", " https://x",
                                    "\thttp://x", "data:,x", "a:b", "1:b", ""])
def test_is_external_is_having_a_scheme(target: str) -> None:
    from urllib.parse import urlsplit

    from digest.links import is_external
    assert is_external(target) == (bool(urlsplit(target).scheme)
                                   or target.startswith(("//", "#")))


@pytest.mark.parametrize("absolute", [False, True])
def test_the_quick_look_for_resolvable_links_misses_none(
        absolute: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """resolve_body returns a body untouched when no href or src could change: whatever
    the targets, it gives what the substitution over every attribute gives."""
    import re

    from digest import links
    urls = Urls("https://example.github.io/repo/")
    targets = ["https://x.example/a", "http://x", "HTTPS://x", "mailto:a@b", "//cdn/x",
               "#part", "ftp://x", "a.md", "../b.md", "/topics/", "c%2Emd", "https", "",
               "img.png", "data:,x", "a:b", " https://x"]
    bodies = [html for target in targets for html in (
        f'<a href="{target}">x</a>', f'<img src="{target}" alt="">',
        f'<p id="x"><a data-href="{target}" href="https://y">y</a></p>')]

    def shown() -> list[str]:
        return [links.resolve_body(html, "content/articles/a.md", {"content/b.md": "b/"},
                                   "content/articles/", urls, absolute) for html in bodies]
    quick = shown()
    monkeypatch.setattr(links, "MAYBE_RESOLVED", re.compile(""))  # always substitute
    assert quick == shown()
    assert sum(a != b for a, b in zip(quick, bodies, strict=True)) >= 6  # some resolved


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_tags_naming_a_company_file_the_article_under_it(tmp_path: Path) -> None:
    write(tmp_path / "content/companies/alibaba.md",
          "---\nname: Alibaba\naliases: [阿里巴巴, BABA]\n---\n")
    write(tmp_path / "content/articles/a.md",
          "---\ntitle: 阿里巴巴云计划\ndate: 2023-05-18\ntags: alibaba, Cloud, IPO\n---\nText.\n")
    write(tmp_path / "content/articles/b.md",
          "---\ntitle: Second\ndate: 2023-05-19\ntags: [BABA, cloud]\n---\nText.\n")
    config = load_config(tmp_path)
    diagnostics = Diagnostics()
    site = build_site(load_content(config, diagnostics, MarkdownCache(None))[0], config,
                      diagnostics,
                      Selection(datetime(2030, 1, 1, tzinfo=UTC)))
    assert not diagnostics.items
    assert [c.slug for c in site.companies] == ["alibaba"]
    assert len(site.companies[0].articles) == 2
    assert [t.slug for t in site.topics] == ["cloud", "ipo"]
    assert site.topics[0].name == "Cloud"  # ties between spellings go to A-Z order
    assert site.articles[1].url == "2023/05/a-li-ba-ba-yun-ji-hua/"  # transliterated slug
    assert site.articles[0].related == [site.articles[1]]


def test_config_defaults_without_pyproject(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config == Config(root=tmp_path)
    assert config.base_url == "/" and config.timezone == "UTC" and config.output_dir == "site"


def test_config_base_url_gets_trailing_slash(tmp_path: Path) -> None:
    config = load_config(tmp_path, {"base_url": "https://example.github.io/repo"})
    assert config.base_url == "https://example.github.io/repo/"


def test_bad_permalink_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(BuildError) as caught:
        load_config(tmp_path, {"permalink": "/{yr}/{slug}/"})
    assert "bad permalink" in str(caught.value)


def test_site_template_overrides_theme_file_by_file(tmp_path: Path) -> None:
    from digest.build import build

    write(tmp_path / "content/articles/a.md", "---\ntitle: One\ndate: 2024-01-01\n---\nText.\n")
    write(tmp_path / "templates/404.html",
          '{% extends "base.html" %}{% block main %}<h1>Lost at {{ config.title }}</h1>'
          "{% endblock %}")
    build(load_config(tmp_path))
    assert "<h1>Lost at Business Digest</h1>" in (tmp_path / "site/404.html").read_text()
    article = (tmp_path / "site/2024/01/one/index.html").read_text()
    assert '<article class="article">' in article  # still the theme's article.html


def test_shipped_unicode_classes_are_what_python_computes() -> None:
    """unicode_classes.py is generated (python -m digest.search.tokenizer), not typed."""
    import unicodedata

    from digest.search import unicode_classes
    from digest.search.tokenizer import character_classes

    if unicodedata.unidata_version != unicode_classes.UNIDATA_VERSION:
        pytest.skip("another Unicode version: the tokenizer computes its classes itself")
    assert character_classes() == (unicode_classes.MARKS, unicode_classes.WORD)


def test_archives_stay_small_however_busy_a_month_is(tmp_path: Path) -> None:
    from digest.build import build

    for number in range(105):
        write(tmp_path / f"content/articles/a{number:03d}.md",
              f"---\ntitle: Report {number:03d}\ndate: 2024-05-{number % 28 + 1:02d}\n---\n"
              "Text.\n")
    result = build(load_config(tmp_path), selection=Selection(datetime(2030, 1, 1, tzinfo=UTC)))
    site = tmp_path / "site"
    year = (site / "archive/2024/index.html").read_text(encoding="utf-8")
    assert year.count('<li><a href="/2024/05/report-') == 10, "ten headlines a month"
    assert "All 105 articles of May 2024" in year
    first = (site / "archive/2024/05/index.html").read_text(encoding="utf-8")
    second = (site / "archive/2024/05/page/2/index.html").read_text(encoding="utf-8")
    assert first.count('class="teaser"') == 100 and second.count('class="teaser"') == 5
    assert 'rel="next" href="/archive/2024/05/page/2/"' in first
    assert result.pages["archive"] == 3  # the year and the month's two pages


def test_the_reused_converter_keeps_nothing_between_texts() -> None:
    """render_markdown resets one converter per process: ids, footnotes and
    abbreviations of one text must not leak into the next."""
    text = ("## Intro\n\nA claim[^1] about the *HTML* API.\n\n[^1]: A source.\n\n"
            "*[API]: Application Programming Interface\n\n## Intro\n")
    first = render_markdown(text)
    other = render_markdown("## Intro\n\nNo notes, no API here.\n")
    assert render_markdown(text) == first
    assert 'id="intro"' in other.html and "footnote" not in other.html
    assert "<abbr" not in other.html


def test_compiled_templates_are_shared_by_base_paths_and_keyed_by_digests_code(
        example_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds for other base paths share the compiled templates in the cache folder:
    what a template compiles to holds no base path (`'topics/'|url` is not folded into
    a constant), and digest's own code is part of what a compiled template is kept by
    (its filters are what the code makes them)."""
    import digest.render
    from digest.build import build

    cache = example_site / ".digest-cache"
    for base, output in (("/first/", "one"), ("/second/", "two"), ("/first/", "three")):
        config = load_config(example_site, {"base_url": base, "output_dir": output,
                                            "cache_dir": str(cache)})
        build(config)
        home = (example_site / output / "index.html").read_text(encoding="utf-8")
        other = "/second/" if base == "/first/" else "/first/"
        assert f'href="{base}topics/"' in home and other not in home, (base, output)
    checksum = digest.render.TemplateBytecode(str(cache / "templates")).get_source_checksum
    before = checksum("{{ 'topics/'|url }}")
    monkeypatch.setattr(digest.render, "code_fingerprint", lambda: "another digest")
    assert checksum("{{ 'topics/'|url }}") != before


def test_the_code_fingerprint_reads_library_versions_as_importlib_metadata_does() -> None:
    """state.installed_versions reads them from the .dist-info folders on sys.path
    (importing importlib.metadata cost every build 20 ms): the same versions."""
    from importlib import metadata

    from digest.state import LIBRARIES, installed_versions, normalized_project

    found = installed_versions()
    assert {name: found.get(normalized_project(name)) for name in LIBRARIES} == \
        {name: metadata.version(name) for name in LIBRARIES}


@pytest.mark.parametrize("moment", [
    datetime(2024, 2, 29, 23, 5, 9, tzinfo=UTC),
    datetime(2023, 12, 31, 0, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(2021, 3, 28, 2, 30, tzinfo=ZoneInfo("Europe/Berlin")),
    datetime(2022, 7, 4, 8, 15, tzinfo=timezone(timedelta(hours=-7))),
    datetime(1999, 1, 1, 12, 0),
])
def test_rss_dates_are_what_the_email_package_writes(moment: datetime) -> None:
    """render.rfc822 stands in for email.utils.format_datetime (importing the email
    package cost every build that renders a feed): the same text."""
    import email.utils

    from digest.render import rfc822
    assert rfc822(moment) == email.utils.format_datetime(moment)


def test_a_build_imports_python_markdown_only_when_a_body_needs_it() -> None:
    """quickmark renders most news bodies, headings and their ids included;
    Python-Markdown (for a body quickmark leaves to it) and the email package are
    imported only when needed (a twentieth of an edit's build)."""
    import subprocess
    import sys

    found = subprocess.run(
        [sys.executable, "-c", "import sys, digest.build, digest.cli\n"
         "from digest.markup import render_markdown\n"
         "render_markdown('News text, *plain*.\\n\\n## A heading\\n\\nA [link](../a.md).\\n')\n"
         "print(sorted(m for m in ('markdown', 'email', 'socket') if m in sys.modules))\n"
         "render_markdown('Text with a footnote[^1].\\n\\n[^1]: Here.\\n')\n"
         "print('markdown' in sys.modules)"],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent)
    assert found.stdout.split("\n")[:2] == ["[]", "True"], found.stdout + found.stderr


def test_forgetting_the_state_removes_its_names_at_once_and_its_files_soon(
        tmp_path: Path) -> None:
    """forget_state renames the stamp and the state away (a build stopped after it
    leaves no stamp) and deletes them beside the build; what a killed build left
    renamed, and what a killed writer left half-written, is deleted by the next one."""
    import time

    from digest.state import forget_state, state_paths

    config = load_config(tmp_path)
    paths = state_paths(config)
    assert paths is not None
    paths[0].parent.mkdir(parents=True)
    for path in paths:
        path.write_bytes(b"x" * 100_000)
    leftover = paths[1].with_name(".state.gone-1-cafe")
    leftover.write_bytes(b"left by a killed build")
    folder = paths[0].parent
    long_ago = time.time() - 60
    for name in (".records.4242", ".search.sqlite3.4242", ".search.sqlite3.4242-journal",
                 ".snapshot.0badc0ffee", ".state.77", ".snapshot.1234"):
        (folder / name).write_bytes(b"being written by a writer that was killed")
        if name != ".snapshot.1234":  # (that one is still being written)
            os.utime(folder / name, (long_ago, long_ago))
    forget_state(config)
    assert not any(path.exists() for path in paths)
    for _ in range(500):  # (bounded: 5 s)
        if [p.name for p in folder.iterdir()] == [".snapshot.1234"]:
            break
        time.sleep(0.01)
    assert [p.name for p in folder.iterdir()] == [".snapshot.1234"], "one still written"


def test_pages_escape_what_they_show_as_markupsafe_does() -> None:
    """Autoescaped output goes through render.quick_escape, which gives what
    markupsafe.escape gives for every kind of value a template shows."""
    from markupsafe import Markup, escape

    from digest.render import BuildEnvironment, quick_escape

    class Shown:
        def __html__(self) -> str:
            return "<b>safe</b>"

    values: list[object] = ["<script>alert('x') & \"y\"</script>", "", "plain", 7, 2.5, None,
                            Markup("<i>kept</i>"), Shown(), ["<a>"]]
    for value in values:
        assert quick_escape(value) == escape(value) and type(quick_escape(value)) is Markup
    env = BuildEnvironment(autoescape=True)
    template = env.from_string("{{ a }}|{{ b }}|{{ c }}{% macro m(x) %}{{ x }}{% endmacro %}"
                               "|{{ m(a) }}")
    assert template.root_render_func.__globals__["escape"] is quick_escape
    assert template.render(a="<x>", b=Markup("<y>"), c=3) == "&lt;x&gt;|<y>|3|&lt;x&gt;"
