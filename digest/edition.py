"""`digest edition [PERIOD] [--format html|text] [--output FILE]`: one edition as the
email HTML or plain text the build writes beside its page, for pasting into a mail
tool (issue 11). The latest finished edition unless a period is named."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from digest.build import load
from digest.cache import MarkdownCache
from digest.config import Config
from digest.editions import KEY_EXAMPLES, Edition, finished, parse_period
from digest.errors import Diagnostic, Diagnostics, UsageError
from digest.model import Selection, Site
from digest.plan import edition_outputs
from digest.render import BodyResolver, make_environment, render_page
from digest.urls import EMAIL_HTML, EMAIL_TEXT, Urls

FILES = {"html": EMAIL_HTML, "text": EMAIL_TEXT}  # the build's file of each --format


@dataclass(frozen=True)
class Printed:
    edition: Edition
    text: str
    warnings: list[Diagnostic]


def usage(argument: str, message: str, hint: str | None = None) -> UsageError:
    return UsageError([Diagnostic(argument, 0, 0, message, hint=hint)])


def choose(site: Site, period: str | None, config: Config) -> Edition:
    """The edition `period` names, or the latest finished one; UsageError (exit 2) with
    a hint when there is none."""
    if not config.editions:
        raise usage("editions", "editions are off for this site",
                    'set editions = "weekly" (or "daily", "monthly") in [tool.digest]')
    latest = site.editions[0].key if site.editions else None
    if period is None:
        done = finished(site.editions)
        if done:
            return done[0]
        raise usage("PERIOD", "no edition has finished yet",
                    f"name the running one to print it anyway: digest edition {latest}"
                    if latest else "add articles first")
    found = parse_period(period, config)
    if found is None:
        raise usage(period, f"'{period}' names no {config.editions} edition",
                    f"write a period such as {latest or KEY_EXAMPLES[config.editions]}")
    edition = site.editions_by_key.get(found.key)
    if edition is None:
        raise usage(period, f"no published article is dated in {found.key}",
                    f"the latest edition is {latest}" if latest else "add articles first")
    return edition


def print_edition(config: Config, period: str | None, form: str, selection: Selection
                  ) -> Printed:
    """The edition as its email.html (`form` "html") or email.txt ("text") reads."""
    diagnostics = Diagnostics()
    with MarkdownCache(config.cache_path, prune=False) as store:
        site, _ = load(config, diagnostics, selection, store)
        edition = choose(site, period, config)
        urls = Urls(config.base_url)
        env = make_environment(config, urls, BodyResolver(site.by_source, store, urls,
                                                          config.content_dir))
        output = next(o for o in edition_outputs(edition, config.edition_group)
                      if o.site_path == edition.url + FILES[form])
        text = render_page(env, output.template, output.context, output.site_path)
    return Printed(edition, text, diagnostics.warnings)


def write_new(path: Path, text: str) -> None:
    """Write a file that does not exist yet: an editor's file is never overwritten
    (created exclusively, as `digest new` does)."""
    if path.is_dir():
        raise usage(str(path), "is a folder", "name a file: --output FOLDER/edition.html")
    try:
        with path.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise usage(str(path), "file exists; digest edition never overwrites a file",
                    "choose another --output name, or remove the file first") from None
    except OSError as error:  # no such folder, a folder of that name, no permission
        raise usage(str(path), f"cannot write the edition: {error.strerror}",
                    "name a file in a folder that exists") from None
