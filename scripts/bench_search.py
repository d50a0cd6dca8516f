"""Search benchmark: digest's own index against Pagefind on the same synthetic site.

    python scripts/bench_search.py [--articles 10000] [--repeat 3] [--keep DIR]
    python scripts/bench_search.py --articles 100000 --index-only

Not a test: numbers depend on the machine. Steps:

1. Generate a synthetic site (scripts/bench.py `write_site`, seeded) with the article
   template override of scripts/bench_templates/ (marks the article for Pagefind).
2. `digest build` it; then, in a separate process, load the site model and time
   `digest.search.indexer.build_index` alone (the RSS of that process includes loading
   the site model).
3. Index the same built pages with Pagefind (PyPI `pagefind-bin`, pinned: pagefind-bin
   1.5.2; `python -m pagefind_bin` execs the bundled binary).
4. Serve the site on 127.0.0.1 and run five queries per system in Debian's Chromium
   (Playwright, never `playwright install`), each in a fresh browser context: bytes
   fetched (each file counted as min(raw, gzip -9) of its bytes on disk, as GitHub Pages
   would serve it) and milliseconds from navigation start to the first result in the DOM.
5. Print a markdown table with PASS/FAIL against digest's targets (issue 3).
6. Edit one article, rebuild, and count the files under site/search/ that were added,
   removed, rewritten or left alone (hard-linked, same inode).

Needs: `pip install pagefind-bin==1.5.2 playwright` in the venv and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import hashlib
import json
import mimetypes
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from bench import Measured, SyntheticSite, digest_build, mib, run_measured, write_site

PAGEFIND_VERSION = "1.5.2"
TEMPLATES = Path(__file__).resolve().parent / "bench_templates"
CHROMIUM = "/usr/bin/chromium"
# As in tests/browser.py: without these Chromium tries to reach Google's services.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
KB = 1000
TARGETS = {"index_seconds": 10.0, "index_memory": 2**29, "query_bytes": 150 * KB,
           "query_ms": 300.0, "index_memory_100k": 2**31}
INDEX_STEP = """
import json, resource, sys, time
from pathlib import Path

def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

from digest.build import load
from digest.cache import MarkdownCache
from digest.config import load_config
from digest.errors import Diagnostics
from digest.search.indexer import build_index

started = time.perf_counter()
config = load_config(Path(sys.argv[1]))
with MarkdownCache(config.cache_path) as store:
    site, _ = load(config, Diagnostics(), store=store)
    loaded = time.perf_counter()
    after_load = peak()
    files, _ = build_index(site, store)
done = time.perf_counter()
print(json.dumps({"load_s": loaded - started, "index_s": done - loaded,
                  "articles": len(site.articles), "files": len(files),
                  "bytes": sum(len(data or b"") for data in files.values()),
                  "hwm_after_load": after_load, "hwm_after_index": peak()}))
"""
PAGEFIND_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Pagefind benchmark</title>
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<main>
<p id="status"></p>
<ol id="results"></ol>
</main>
<script type="module">
const params = new URLSearchParams(location.search);
const company = params.get("company");
const pagefind = await import("/pagefind/pagefind.js");
const search = company
  ? await pagefind.search(null, {filters: {company}})
  : await pagefind.search(params.get("q") || "");
document.getElementById("status").textContent = `${search.results.length} results`;
const list = document.getElementById("results");
const loading = search.results.slice(0, 10).map((result) => result.data());
for (const data of loading) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = (await data).url;
  link.textContent = (await data).meta.title;
  item.append(link);
  list.append(item);
}
</script>
</body>
</html>
"""
# Runs in every page before its own scripts: the first non-empty result item, in
# performance.now() time (milliseconds since navigation start).
FIRST_RESULT = """(() => {
  const selector = %s;
  const check = () => {
    if (window.__firstResult !== undefined) return;
    const item = document.querySelector(selector);
    if (item && item.textContent.trim()) {
      window.__firstResult = performance.now();
      window.__firstText = (item.querySelector("a") || item).textContent.trim();
    }
  };
  new MutationObserver(check).observe(document,
    {childList: true, subtree: true, characterData: true});
})();"""


@dataclass
class System:
    name: str
    selector: str  # a rendered result
    status: str  # the element whose text says how many results
    url: Callable[[dict[str, str]], str]
    missing: str = ""  # why this system cannot be queried, if it cannot


@dataclass
class Query:
    label: str
    text: str  # for the table
    digest: dict[str, str]
    pagefind: dict[str, str]


@dataclass
class QueryRun:
    milliseconds: list[float] = field(default_factory=list)
    fetched: dict[str, int] = field(default_factory=dict)  # path → bytes as served
    missing: list[str] = field(default_factory=list)  # responses not served from a file
    status: str = ""
    first: str = ""
    error: str = ""

    @property
    def bytes(self) -> int:
        return sum(self.fetched.values())

    @property
    def ms(self) -> float | None:
        return statistics.median(self.milliseconds) if self.milliseconds else None


@dataclass
class IndexStats:
    seconds: float
    memory: int
    raw_bytes: int
    served_bytes: int
    files: int
    note: str = ""


# -- sizes ------------------------------------------------------------------------------

@functools.cache
def served_size(path: Path) -> int:
    """Bytes GitHub Pages would send: gzip when that is smaller (it compresses text)."""
    raw = path.read_bytes()
    return min(len(raw), len(gzip.compress(raw, 9)))


def folder_stats(folder: Path) -> tuple[int, int, int]:
    """Files, raw bytes and bytes as served under `folder`."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    return (len(files), sum(p.stat().st_size for p in files),
            sum(served_size(p) for p in files))


def kb(size: int) -> str:
    return f"{size / KB:,.1f} KB"


# -- index builds -----------------------------------------------------------------------

def measure_index_step(root: Path, timeout: float) -> tuple[Measured, dict[str, Any]]:
    run = run_measured([sys.executable, "-c", INDEX_STEP, root], timeout=timeout).check(
        "the index step (load + build_index)")
    return run, json.loads(run.stdout.strip().splitlines()[-1])


def pagefind_version() -> str:
    result = subprocess.run([sys.executable, "-m", "pagefind_bin", "--version"],
                            capture_output=True, text=True, timeout=60)
    return result.stdout.strip() or result.stderr.strip()


def run_pagefind(site: Path, timeout: float) -> Measured:
    # pagefind_bin's __main__ execs the bundled binary, so the measured process is Pagefind.
    return run_measured([sys.executable, "-m", "pagefind_bin", "--site", site],
                        timeout=timeout).check("pagefind")


def check_pagefind_markup(site: SyntheticSite, output: str) -> str:
    """The override must reach every article page; Pagefind says how many it indexed."""
    html = next((site.root / "site").glob("20*/*/*/index.html")).read_text(encoding="utf-8")
    problems = [attribute for attribute in ("data-pagefind-body", 'data-pagefind-filter="company"')
                if attribute not in html]
    if problems:
        sys.exit(f"the article template override lost {problems}: did the theme's "
                 "article.html or the chips macro change? See scripts/bench_templates/.")
    indexed = next((line for line in output.splitlines() if "Indexed" in line and "page" in line),
                   "")
    if str(site.articles) not in indexed.replace(",", ""):
        print(f"warning: Pagefind did not index {site.articles} pages: {indexed.strip()}")
    return indexed.strip()


# -- serving and browsing -----------------------------------------------------------------

class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 at a free port; yields the root URL without a slash."""
    for suffix, kind in ((".js", "text/javascript"), (".mjs", "text/javascript"),
                         (".json", "application/json"), (".wasm", "application/wasm")):
        mimetypes.add_type(kind, suffix)
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def local_file(site: Path, url: str) -> Path | None:
    path = unquote(urlsplit(url).path)
    if path.endswith("/"):
        path += "index.html"
    candidate = (site / path.lstrip("/")).resolve()
    return candidate if candidate.is_file() and candidate.is_relative_to(site) else None


def run_queries(site_dir: Path, systems: list[System], queries: list[Query],
                repeat: int) -> dict[tuple[str, str], QueryRun]:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import Response, sync_playwright

    site_dir = site_dir.resolve()
    runs: dict[tuple[str, str], QueryRun] = {}
    with serve(site_dir) as origin, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             timeout=60_000)
        try:
            def load(system: System, params: dict[str, str], record: QueryRun | None) -> None:
                context = browser.new_context()
                try:
                    context.add_init_script(FIRST_RESULT % json.dumps(system.selector))
                    page = context.new_page()
                    page.set_default_timeout(30_000)
                    fetched: dict[str, int] = {}
                    missing: list[str] = []

                    def seen(response: Response) -> None:
                        file = local_file(site_dir, response.url)
                        if file is None or response.status >= 400:
                            missing.append(f"{response.status} {urlsplit(response.url).path}")
                        else:
                            fetched[file.relative_to(site_dir).as_posix()] = served_size(file)

                    page.on("response", seen)
                    page.goto(origin + system.url(params), wait_until="commit")
                    page.wait_for_function("window.__firstResult !== undefined",
                                           timeout=30_000)
                    first = page.evaluate("[window.__firstResult, window.__firstText]")
                    # What the page still fetches after the first results counts too.
                    with contextlib.suppress(PlaywrightError):
                        page.wait_for_load_state("networkidle", timeout=10_000)
                    if record is not None:
                        record.milliseconds.append(float(first[0]))
                        if not record.fetched:
                            record.fetched, record.missing = dict(fetched), missing
                            record.first = str(first[1])[:70]
                            record.status = page.locator(system.status).inner_text(
                                timeout=5_000).strip()
                finally:
                    context.close()

            for system in systems:
                if system.missing:
                    for query in queries:
                        runs[system.name, query.label] = QueryRun(error=system.missing)
                    continue
                # A first load warms the browser process up; it is not counted.
                with contextlib.suppress(PlaywrightError):
                    load(system, queries[0].digest if system.name == "digest"
                         else queries[0].pagefind, None)
                for query in queries:
                    record = runs[system.name, query.label] = QueryRun()
                    params = query.digest if system.name == "digest" else query.pagefind
                    for _ in range(repeat):
                        try:
                            load(system, params, record)
                        except PlaywrightError as error:
                            record.error = str(error).splitlines()[0][:200]
                            break
        finally:
            browser.close()
    return runs


# -- incremental ----------------------------------------------------------------------------

def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino,
                                                hashlib.sha256(p.read_bytes()).hexdigest())
            for p in folder.rglob("*") if p.is_file()}


def edit_article(path: Path) -> str:
    """Change three words of the body's second paragraph; returns what changed."""
    text = path.read_text(encoding="utf-8")
    head, separator, body = text.partition("\n---\n")
    paragraphs = body.split("\n\n")
    words = paragraphs[1].split(" ")
    changed = []
    for position, replacement in ((3, "turnover"), (9, "benchmarked"), (15, "quarterly")):
        changed.append(f"{words[position]!r}→{replacement!r}")
        words[position] = replacement
    paragraphs[1] = " ".join(words)
    path.write_text(head + separator + "\n\n".join(paragraphs), encoding="utf-8")
    return ", ".join(changed)


def incremental_check(site: SyntheticSite, timeout: float) -> list[str]:
    search = site.root / "site/search"
    before = snapshot(search)
    changed = edit_article(site.edit_path)
    rebuild = digest_build(site.root, timeout).check("digest rebuild")
    after = snapshot(search)
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    common = before.keys() & after.keys()
    rewritten = sorted(p for p in common if before[p] != after[p])
    unchanged = len(common) - len(rewritten)
    lines = [f"Edited {site.edit_path.relative_to(site.root)} ({changed}); rebuilt in "
             f"{rebuild.seconds:.1f} s.",
             f"site/search/: {len(added)} added, {len(removed)} removed, "
             f"{len(rewritten)} rewritten (inode or content changed), {unchanged} unchanged "
             f"(same inode and bytes) of {len(after)} files."]
    for what, names in (("added", added), ("removed", removed), ("rewritten", rewritten)):
        if names:
            shown = ", ".join(names[:12]) + (f", … ({len(names)})" if len(names) > 12 else "")
            lines.append(f"  {what}: {shown}")
    return lines


# -- report -------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def table(site: SyntheticSite, full_build: Measured, digest: IndexStats,
          pagefind: IndexStats, queries: list[Query],
          runs: dict[tuple[str, str], QueryRun]) -> list[str]:
    rows = [f"| {site.articles:,} articles | digest | Pagefind {PAGEFIND_VERSION} "
            "| digest target | digest |",
            "|---|---:|---:|---|---|",
            f"| full `digest build` (s) | {full_build.seconds:.1f} | – | | |",
            f"| index build (s) | {digest.seconds:.2f} | {pagefind.seconds:.2f} | ≤ 10 s | "
            f"{verdict(digest.seconds <= TARGETS['index_seconds'])} |",
            f"| peak memory (RSS) | {mib(digest.memory)} | {mib(pagefind.memory)} | ≤ 0.5 GiB | "
            f"{verdict(digest.memory <= TARGETS['index_memory'])} |",
            f"| index bytes (raw) | {kb(digest.raw_bytes)} | {kb(pagefind.raw_bytes)} | | |",
            f"| index bytes (as served, gzip) | {kb(digest.served_bytes)} | "
            f"{kb(pagefind.served_bytes)} | | |",
            f"| index files | {digest.files:,} | {pagefind.files:,} | | |"]
    for query in queries:
        ours, theirs = runs["digest", query.label], runs["pagefind", query.label]
        rows.append(f"| {query.label} `{query.text}`: fetched | {fetched_cell(ours)} | "
                    f"{fetched_cell(theirs)} | ≤ 150 KB | "
                    f"{verdict(not ours.error and ours.bytes <= TARGETS['query_bytes'])} |")
        rows.append(f"| {query.label} `{query.text}`: first results (ms) | {ms_cell(ours)} | "
                    f"{ms_cell(theirs)} | ≤ 300 ms | "
                    f"{verdict(ours.ms is not None and ours.ms <= TARGETS['query_ms'])} |")
    return rows


def fetched_cell(run: QueryRun) -> str:
    if run.error:
        return "error"
    return f"{kb(run.bytes)} ({len(run.fetched)} files)"


def ms_cell(run: QueryRun) -> str:
    return "error" if run.ms is None else f"{run.ms:.0f}"


def details(queries: list[Query], runs: dict[tuple[str, str], QueryRun]) -> list[str]:
    lines = []
    for query in queries:
        for system in ("digest", "pagefind"):
            run = runs[system, query.label]
            lines.append(f"- {system} · {query.label} `{query.text}`: "
                         + (f"ERROR {run.error}" if run.error else
                            f"{run.status!r}, first {run.first!r}, ms "
                            f"{', '.join(f'{m:.0f}' for m in run.milliseconds)}"))
            largest = sorted(run.fetched.items(), key=lambda item: -item[1])
            shown = ", ".join(f"{path} {kb(size)}" for path, size in largest[:12])
            if len(largest) > 12:
                rest = largest[12:]
                shown += f", … {len(rest)} more, {kb(sum(size for _, size in rest))}"
            lines.append("  fetched: " + shown)
            if run.missing:
                lines.append("  not served from a file: " + ", ".join(run.missing))
    return lines


# -- main ---------------------------------------------------------------------------------

def generate(root: Path, articles: int, seed: int) -> SyntheticSite:
    from digest.config import default_theme_path

    started = time.perf_counter()
    site = write_site(root, articles, seed, templates=TEMPLATES)
    theme_copy = root / "templates/_theme"
    theme_copy.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(default_theme_path() / "article.html", theme_copy / "article.html")
    print(f"Generated {articles:,} articles in {time.perf_counter() - started:.1f} s "
          f"into {root}.")
    return site


def make_queries(site: SyntheticSite) -> list[Query]:
    company, filtered = site.company_query, site.filter_company
    return [
        Query("common word", site.common_word, {"q": site.common_word},
              {"q": site.common_word}),
        Query("two words", site.two_words, {"q": site.two_words}, {"q": site.two_words}),
        Query("company name", company.name, {"q": company.name}, {"q": company.name}),
        Query("rare word", site.rare_word, {"q": site.rare_word}, {"q": site.rare_word}),
        Query("company filter", f"company={filtered.slug}", {"company": filtered.slug},
              {"company": filtered.name}),
    ]


def index_only(site: SyntheticSite, timeout: float) -> None:
    run, step = measure_index_step(site.root, timeout)
    ok = run.max_rss <= TARGETS["index_memory_100k"]
    print(f"Index step, {step['articles']:,} articles: build_index {step['index_s']:.1f} s "
          f"(loading the site model before it: {step['load_s']:.1f} s).")
    print(f"Peak RSS of the process {mib(run.max_rss)} — includes loading the site model "
          f"(VmHWM after load {mib(step['hwm_after_load'])}, after build_index "
          f"{mib(step['hwm_after_index'])}); peak PSS of all its processes "
          f"{mib(run.tree_pss)}.")
    print(f"Index: {step['files']:,} files, {kb(step['bytes'])} raw.")
    print(f"Target ≤ 2 GiB peak RSS: {verdict(ok)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--index-only", action="store_true",
                        help="only generate and time the index step (e.g. at 100,000)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="fresh-context loads per query; the median ms is reported")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds allowed to each build or index subprocess")
    parser.add_argument("--keep", type=Path, help="write the synthetic site here (empty)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as scratch:
        root = (args.keep or Path(scratch)).resolve()
        if args.keep and args.keep.exists() and any(args.keep.iterdir()):
            sys.exit(f"{args.keep} is not empty")
        site = generate(root, args.articles, args.seed)
        if args.index_only:
            index_only(site, args.timeout)
            return

        full = digest_build(root, args.timeout).check("digest build")
        print(f"digest build: {full.seconds:.1f} s, peak RSS {mib(full.max_rss)} "
              f"(largest process), peak PSS {mib(full.tree_pss)} (all processes).")
        run, step = measure_index_step(root, args.timeout)
        files, raw, served = folder_stats(root / "site/search")
        digest = IndexStats(step["index_s"], run.max_rss, raw, served, files)
        print(f"digest index step: build_index {step['index_s']:.2f} s after loading the "
              f"site model in {step['load_s']:.1f} s. Peak RSS {mib(run.max_rss)} INCLUDES "
              f"loading the site model (VmHWM after load {mib(step['hwm_after_load'])}, "
              f"after build_index {mib(step['hwm_after_index'])}); peak PSS of the process "
              f"and its workers {mib(run.tree_pss)}.")

        version = pagefind_version()
        if PAGEFIND_VERSION not in version:
            print(f"warning: expected pagefind {PAGEFIND_VERSION}, found {version!r}")
        pagefind_run = run_pagefind(root / "site", args.timeout)
        indexed = check_pagefind_markup(site, pagefind_run.stdout)
        files, raw, served = folder_stats(root / "site/pagefind")
        pagefind = IndexStats(pagefind_run.seconds, pagefind_run.max_rss, raw, served, files)
        print(f"{version}: {pagefind_run.seconds:.2f} s, peak RSS {mib(pagefind_run.max_rss)}"
              f" | {indexed}")
        bench_page = root / "site/pagefind-bench/index.html"
        bench_page.parent.mkdir()
        bench_page.write_text(PAGEFIND_PAGE, encoding="utf-8")

        queries = make_queries(site)
        systems = [
            System("digest", "#search-results li", "#search-status",
                   lambda params: "/search/?" + urlencode(params)),
            System("pagefind", "#results li", "#status",
                   lambda params: "/pagefind-bench/?" + urlencode(params)),
        ]
        if not (root / "site/static/search.js").is_file():
            systems[0].missing = "the built site has no static/search.js"
            print(f"warning: {systems[0].missing}: digest queries skipped")
        started = time.perf_counter()
        runs = run_queries(root / "site", systems, queries, max(1, args.repeat))
        print(f"Queries ({max(1, args.repeat)} fresh-context loads each) took "
              f"{time.perf_counter() - started:.0f} s. The rare word is in "
              f"{site.rare_word_articles} articles; {site.filter_company.name} in "
              f"{site.mentions.get(site.filter_company.slug, 0)}; "
              f"{site.company_query.name} ({', '.join(site.company_query.aliases)}) in "
              f"{site.mentions.get(site.company_query.slug, 0)}.")
        print("\n".join(["", "Per query (status line, first result, ms of each load, "
                         "files fetched largest first, sizes as served):", *details(
                             queries, runs)]))
        print("\n".join(["", *table(site, full, digest, pagefind, queries, runs)]))
        print("\nMeasured: index build = wall time of build_index alone (digest, in a "
              "process that first loads the site model) / of the whole pagefind process. "
              "Peak memory = ru_maxrss (wait4) of that process: for digest it includes "
              "loading the site model and is the largest single process (pool workers are "
              "not summed). Query bytes = every response of the page load until network idle, "
              "each file min(raw, gzip -9); ms = median over fresh contexts of "
              "performance.now() when the first result item appeared in the DOM.")
        if args.articles != 10_000:
            print(f"Note: the targets are for 10,000 articles; this run has {args.articles:,}.")
        print("\n" + "\n".join(incremental_check(site, args.timeout)))


if __name__ == "__main__":
    main()
