"""Command line: thin verbs over the library. The only module that prints."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from digest import __version__
from digest.config import Config, current_time, load_config
from digest.errors import Diagnostic, Diagnostics, DigestError, UsageError

if TYPE_CHECKING:
    from digest.build import BuildResult
    from digest.render import Progress
    from digest.state import Scan

# Each verb imports the modules it needs when it runs: a no-op `digest build` then
# never loads Jinja2, Markdown or YAML (half of its time at 10,000 articles).

PAGE_KINDS = ("article", "edition", "topic", "company", "archive", "list", "feed", "other")


def print_diagnostics(diagnostics: Sequence[Diagnostic], style: str = "text") -> None:
    if not diagnostics:
        return
    # One write: print() makes two system calls a line on stderr, and a build repeats
    # every warning of the site (1,200 calls for an archive of 10,000 articles).
    stream = sys.stderr if style == "text" else sys.stdout
    stream.write("".join((github_annotation(d) if style == "github" else d.format()) + "\n"
                         for d in diagnostics))
    stream.flush()


def github_annotation(d: Diagnostic) -> str:
    """A GitHub Actions workflow command: the problem shows on the pull request's diff."""
    def escape(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def escape_property(text: str) -> str:  # a file name must not add properties
        return escape(text).replace(":", "%3A").replace(",", "%2C")

    where = f"file={escape_property(d.path)}" + (f",line={d.line}" if d.line else "") + \
        (f",col={d.column}" if d.column else "")
    message = d.message + (f" (hint: {d.hint})" if d.hint else "")
    command = {"error": "error", "warning": "warning", "note": "notice"}[d.severity]
    return f"::{command} {where}::{escape(message)}"


def summary(result: BuildResult, verb: str) -> str:
    if result.unchanged:
        return unchanged(result.files, result.output, result.seconds, result.held_back)
    kinds = ", ".join(f"{result.pages[k]} {k}" for k in PAGE_KINDS if result.pages[k])
    where = f" into {result.output}" if result.output else ""
    fresh = f"; {len(result.rendered)} rendered, the rest unchanged" \
        if len(result.rendered) < sum(result.pages.values()) else ""
    return (f"{verb} {sum(result.pages.values())} pages ({kinds}), {result.files} files"
            f"{where} in {result.seconds:.2f} s{fresh}{held_back(result.held_back)}")


def unchanged(files: int, output: Path | None, seconds: float,
              held: tuple[int, int, tuple[datetime, str] | None]) -> str:
    return (f"nothing changed: {files} files in {output} are up to date (checked in "
            f"{seconds:.2f} s){held_back(held)}")


def held_back(held: tuple[int, int, tuple[datetime, str] | None]) -> str:
    """What the build left out, and when the next scheduled article is due."""
    drafts, scheduled, due = held
    parts = [f"{drafts} draft(s)"] if drafts else []
    if due is not None:
        moment, path = due
        parts.append(f"{scheduled} scheduled (next due {moment:%Y-%m-%d %H:%M %Z}: {path})")
    return "; held back " + ", ".join(parts) if parts else ""


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress | None]:
    """A rich progress bar on a terminal; nothing when piped or --quiet."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress as RichProgress  # imported only when drawn

    with RichProgress(transient=True) as bar:
        task = bar.add_task("rendering", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if getattr(args, "base_url", None):
        values["base_url"] = args.base_url
    if getattr(args, "output", None):
        values["output_dir"] = args.output
    return values


def run_build(args: argparse.Namespace) -> Config:
    config = load_config(Path(args.root).resolve(), overrides(args))
    now = current_time()
    scan = changed_inputs(config, now, args)
    if scan is not None:
        from digest.build import build
        from digest.model import Selection

        with progress_bar(not args.quiet) as progress:
            result = build(config, selection=Selection(now, args.drafts, args.future),
                           progress=progress, scan=scan)
        print_diagnostics(result.warnings)
        if not args.quiet:
            for note in result.notes:
                print(f"note: {note}", file=sys.stderr)
            print(summary(result, "built"))
        if getattr(args, "timings", False):
            print(" · ".join(f"{step} {seconds:.2f} s"
                             for step, seconds in result.timings.items()))
    return config


def changed_inputs(config: Config, now: datetime, args: argparse.Namespace) -> Scan | None:
    """The scanned inputs if the site needs building; else say that nothing changed.
    Decided by the stat of every input against the last build's stamp (state.py), made
    by a forked child while this process imports what a build needs: a no-op imports
    no more of it than the scan took."""
    from digest.config import default_theme_path
    from digest.prescan import ScanChild

    started = time.perf_counter()
    theme = default_theme_path()
    child = ScanChild.start(config, theme, args.drafts, args.future)  # (first: prescan.py)
    from digest.output import check_output_folder, read_marker
    from digest.state import load_stamp, scan_build, up_to_date

    output = check_output_folder(config)
    if child is None:
        scan = scan_build(config, theme, args.drafts, args.future)
    else:
        # While a child scans: read the last build's stamp (up_to_date reads it again
        # from memory), then import what a build needs, a module at a time, until the
        # scan is there. Whether it is the build or the answer "nothing changed" that
        # waits, no more than one module's import.
        load_stamp(config)
        for module in BUILD_MODULES:
            if child.done():
                break
            importlib.import_module(module)
        scan = child.scan()
    stamp = up_to_date(config, theme, scan, read_marker(output), now)
    if stamp is None:
        return scan
    print_diagnostics(stamp.warnings)
    if not args.quiet:
        print(unchanged(stamp.files, output, time.perf_counter() - started, stamp.held_back))
    return None


# What a build imports, in steps of 10–30 ms (see changed_inputs).
BUILD_MODULES = ("jinja2", "digest.content", "digest.model", "digest.render", "digest.build")


def command_build(args: argparse.Namespace) -> int:
    run_build(args)
    return 0


def command_check(args: argparse.Namespace) -> int:
    from digest.check import check
    from digest.model import Selection

    config = load_config(Path(args.root).resolve())
    try:
        report = check(config, Selection(current_time(), args.drafts, args.future))
    except DigestError as error:
        print_diagnostics(error.diagnostics, args.format)
        return error.exit_code
    print_diagnostics(report.problems, args.format)
    failed = report.warnings and args.strict
    if not args.quiet and args.format == "text":
        print(f"checked {report.articles} articles: {report.warnings} warning(s), "
              f"{report.notes} note(s)" + ("; --strict makes the warnings fail" if failed
                                           else ""))
    return 1 if failed else 0


def command_edition(args: argparse.Namespace) -> int:
    from digest.edition import print_edition, write_new
    from digest.model import Selection

    config = load_config(Path(args.root).resolve(), overrides(args))
    printed = print_edition(config, args.period, args.format,
                            Selection(current_time(), args.drafts, args.future))
    print_diagnostics(printed.warnings)
    if "://" not in config.base_url and not args.quiet:
        print(f"note: base_url is '{config.base_url}', so the edition's links are site-"
              "relative; set base_url (or --base-url) to the site's full URL for mail",
              file=sys.stderr)
    if args.output_file:
        write_new(Path(args.output_file), printed.text)
        if not args.quiet:
            print(f"wrote {printed.edition.key} ({args.format}) to {args.output_file}",
                  file=sys.stderr)
    else:
        sys.stdout.write(printed.text)
    return 0


def command_new(args: argparse.Namespace) -> int:
    from digest.fields import DATE_HINT, parse_datetime
    from digest.new import create_article

    config = load_config(Path(args.root).resolve())
    moment = current_time()
    if args.date:
        parsed = parse_datetime(args.date, config.tz)
        if parsed is None:
            raise UsageError([Diagnostic("--date", 0, 0, f"cannot read '{args.date}' as a date",
                                         hint=DATE_HINT)])
        moment = parsed
    created = create_article(config, args.title, moment, args.company, args.tag)
    print_diagnostics(created.warnings)
    print(created.path.relative_to(config.root).as_posix())
    return 0


def command_import(args: argparse.Namespace) -> int:
    from digest.importing import import_files

    config = load_config(Path(args.root).resolve())
    diagnostics = Diagnostics()
    written = import_files(config, [Path(p) for p in args.inputs], current_time(),
                           args.dry_run, diagnostics)
    for item in written:
        target = item.target.relative_to(config.root).as_posix()
        if args.dry_run:
            print(f"would write {target} (from {item.source}):\n{item.text}")
        else:
            print(f"{target} (from {item.source}, draft)")
    print_diagnostics(diagnostics.sorted())
    return 1 if diagnostics.errors else 0


def command_serve(args: argparse.Namespace) -> int:
    from digest.model import Selection
    from digest.serve import serve

    def report(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def ready(address: str) -> None:
        print(f"serving {address} (Ctrl-C stops)", flush=True)

    try:
        serve(Path(args.root).resolve(), args.port,
              Selection(current_time(), args.drafts, args.future), report, ready)
    except KeyboardInterrupt:
        print("stopped", flush=True)
    return 0


def command_init(args: argparse.Namespace) -> int:
    from digest.scaffold import scaffold

    folder = Path(args.folder)
    for item in scaffold(folder, current_time().date()):
        state = "created" if item.created else "exists, left as it was"
        print(f"{item.path}: {state}")
    print(f"next: cd {folder} && digest build")
    return 0


def command_deploy(args: argparse.Namespace) -> int:
    from digest.deploy import deploy

    config = run_build(args)
    deployed = deploy(config.root, config.output_path, args.branch,
                      None if args.no_push else args.remote, args.message)
    where = f" and pushed to {deployed.remote}" if deployed.remote else " (not pushed)"
    print(f"committed {deployed.commit[:12]} to {deployed.branch}{where}")
    return 0


def port_number(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port (0 to 65535)")
    return number


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="digest", description=__doc__)
    parser.add_argument("--version", action="version", version=f"digest {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")

    def verb(name: str, handler: Callable[[argparse.Namespace], int], text: str
             ) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=text, description=text)
        sub.set_defaults(handler=handler)
        sub.add_argument("--root", default=".", metavar="DIR",
                         help="project folder holding content/ (default: current folder)")
        sub.add_argument("-q", "--quiet", action="store_true", help="print only problems")
        sub.add_argument("--drafts", action="store_true", help="include draft articles")
        sub.add_argument("--future", action="store_true",
                         help="include articles dated in the future (scheduled)")
        return sub

    build_verb = verb("build", command_build, "build the site into site/")
    build_verb.add_argument("--base-url", metavar="URL",
                            help="override [tool.digest] base_url, e.g. "
                                 "https://example.github.io/repo/")
    build_verb.add_argument("--output", metavar="DIR", help="override the output folder")
    build_verb.add_argument("--timings", action="store_true",
                            help="print the seconds spent in each step")
    check = verb("check", command_check,
                 "validate everything the build does, plus links, files and names, "
                 "without writing")
    check.add_argument("--strict", action="store_true", help="warnings fail (exit 1)")
    check.add_argument("--format", choices=("text", "github"), default="text",
                       help="github: GitHub Actions annotations")
    edition = verb("edition", command_edition,
                   "print one edition as email HTML or plain text, for a mail tool")
    edition.add_argument("period", nargs="?", metavar="PERIOD",
                         help="e.g. 2023-W20 (weekly), 2023-05-16 (daily), 2023-05 (monthly);"
                              " default: the latest finished edition")
    edition.add_argument("--format", choices=("html", "text"), default="html",
                         help="email HTML (default) or its plain-text twin")
    edition.add_argument("--output", dest="output_file", metavar="FILE",
                         help="write to FILE (never overwrites) instead of printing")
    edition.add_argument("--base-url", metavar="URL",
                         help="as for build: the site's full URL, for absolute links")
    new = verbs.add_parser("new", help="write a new article file (never overwrites)",
                           description="write a new article file (never overwrites)")
    new.set_defaults(handler=command_new)
    new.add_argument("title")
    new.add_argument("--company", action="append", default=[], metavar="NAME",
                     help="a company the article is about (repeatable)")
    new.add_argument("--tag", action="append", default=[], metavar="TOPIC",
                     help="a topic (repeatable)")
    new.add_argument("--date", help="date, e.g. 2024-05-18 or '2024-05-18 09:30' (default: now)")
    new.add_argument("--root", default=".", metavar="DIR", help="project folder")
    importer = verbs.add_parser("import", help="turn news articles and Jekyll/Hugo posts into "
                                "draft articles (never overwrites)",
                                description="turn plain-text, HTML or Markdown articles, "
                                "Jekyll and Hugo posts included, into draft articles")
    importer.set_defaults(handler=command_import)
    importer.add_argument("inputs", nargs="+", metavar="FILE_OR_DIR")
    importer.add_argument("--dry-run", action="store_true", help="show, do not write")
    importer.add_argument("--root", default=".", metavar="DIR", help="project folder")
    serve_verb = verb("serve", command_serve,
                      "build into a temporary folder, serve it on 127.0.0.1 and rebuild "
                      "on every save")
    serve_verb.add_argument("--port", type=port_number, default=8000,
                            help="port (0: any free one)")
    init = verbs.add_parser("init", help="scaffold a new site (never overwrites a file)",
                            description="scaffold a new site (never overwrites a file)")
    init.set_defaults(handler=command_init)
    init.add_argument("folder", nargs="?", default=".", metavar="DIR")
    deploy_verb = verb("deploy", command_deploy,
                       "build, then commit site/ to a gh-pages branch and push it")
    deploy_verb.add_argument("--base-url", metavar="URL", help="as for build")
    deploy_verb.add_argument("--output", metavar="DIR", help="as for build")
    deploy_verb.add_argument("--remote", default="origin", help="remote to push to (origin)")
    deploy_verb.add_argument("--branch", default="gh-pages", help="branch (gh-pages)")
    deploy_verb.add_argument("--message", help="commit message")
    deploy_verb.add_argument("--no-push", action="store_true", help="commit only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except DigestError as error:
        print_diagnostics(error.diagnostics)
        errors = sum(1 for d in error.diagnostics if d.severity == "error")
        print(f"{errors} error(s); nothing was written", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # disk full, permission denied: the swap never happened
        where = error.filename or "output"
        print(f"{where}: error: cannot write the site: {error.strerror}", file=sys.stderr)
        print("the previous site is untouched", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # The swap is one atomic exchange: the output folder holds one whole site.
        print("interrupted; the output folder holds a whole site (the previous one, or "
              "this build's if it had been swapped in)", file=sys.stderr)
        return 130
    return code


def run() -> NoReturn:
    """The `digest` command: `main`, then an exit that skips tearing the interpreter
    down. Everything is written, closed and flushed by then, and freeing a
    10,000-article model and build state object by object took 0.08 s of every build
    (the build leaves them: collector.spare)."""
    from digest.collector import exit_without_freeing
    exit_without_freeing()
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe: nothing more can be said
        code = code or 1
    os._exit(code)


if __name__ == "__main__":
    run()
