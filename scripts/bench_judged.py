"""Judged search quality: digest against Pagefind on the same built sites (issue 10).

    python scripts/bench_judged.py [--shared ../shared/bench] [--work DIR] [--articles 10000]

Not a test: it prints a table. Two judged query sets, each line of
scripts/judged/<set>.tsv a query as a reader types it and the article the reader means
(its source file under content/articles/, without `.md`):

- `example`: the example site of this repository (content/);
- `shared10k`: the team's shared workload (`../shared/bench/corpus.py --n 10000`).

Each site is built by digest with the article template that marks the article body and
company chips for Pagefind (scripts/bench_templates/), indexed by Pagefind 1.5.2 (PyPI
`pagefind-bin`), served on 127.0.0.1 and queried in Debian's Chromium: both engines run
in one page, each given the query exactly as typed (so the last word is still being
typed, for both). Scores: MRR@10 (1/rank of the meant article in the first ten, else 0)
and success@3 (the meant article in the first three).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench_search import CHROMIUM, CHROMIUM_ARGS, PAGEFIND_VERSION, TEMPLATES, serve

REPO = Path(__file__).resolve().parent.parent
JUDGED = Path(__file__).resolve().parent / "judged"
TOP = 10
# Loaded into each built site as /judge.html: both engines, one function per query.
JUDGE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>judge</title></head><body>
<script type="module">
import { SearchIndex } from "/static/search-engine.js";
const digest = new SearchIndex(async (path) => (await fetch(`/search/${path}`)).json());
const pagefind = await import("/pagefind/pagefind.js");
await pagefind.init();
const path = (url) => new URL(url, location.origin).pathname.replace(/^\\/+/, "");
window.judge = async (query) => {
  const found = await digest.search(query);
  const docs = await digest.documents(found.ids.slice(0, %(top)d));
  const theirs = await pagefind.search(query);
  const data = await Promise.all(theirs.results.slice(0, %(top)d).map((r) => r.data()));
  return { digest: docs.map((d) => path(d[1])), pagefind: data.map((d) => path(d.url)) };
};
window.judgeReady = true;
</script></body></html>
"""


@dataclass
class Judged:
    query: str
    wanted: str  # source file stem under content/articles/
    url: str = ""  # its site path, from digest's model


@dataclass
class Score:
    reciprocal: float
    top3: bool
    rank: int | None


def read_set(name: str) -> list[Judged]:
    judged = []
    for line in (JUDGED / f"{name}.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            query, wanted = line.split("\t")
            judged.append(Judged(query, wanted.strip()))
    return judged


def digest_cli(root: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "digest", *args, "--root", str(root)], check=True,
                   cwd=REPO, stdout=subprocess.DEVNULL)


def prepare_example(work: Path) -> Path:
    root = work / "example"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    shutil.copytree(REPO / "content", root / "content")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def prepare_shared(work: Path, shared: Path, articles: int) -> Path:
    root = work / "shared10k"
    if not (root / "content").exists():
        subprocess.run([sys.executable, shared / "corpus.py", "--n", str(articles),
                        "--flavor", "plain", "--out", root / "content"], check=True,
                       stdout=subprocess.DEVNULL)
    shutil.copy(shared / "digest-pyproject.toml", root / "pyproject.toml")
    return root


def build_both(root: Path) -> Path:
    """digest's site with the Pagefind markup, then Pagefind's index inside it."""
    from digest.config import default_theme_path

    templates = root / "templates"
    (templates / "_theme").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TEMPLATES / "article.html", templates / "article.html")
    shutil.copyfile(default_theme_path() / "article.html", templates / "_theme/article.html")
    site = root / "site"
    digest_cli(root, "build", "-q", "--base-url", "/")
    subprocess.run([sys.executable, "-m", "pagefind_bin", "--site", str(site)], check=True,
                   stdout=subprocess.DEVNULL)
    (site / "judge.html").write_text(JUDGE_PAGE % {"top": TOP}, encoding="utf-8")
    return site


def attach_urls(root: Path, judged: list[Judged]) -> None:
    """Each meant article's site path, from the site model (so permalinks never drift)."""
    sys.path.insert(0, str(REPO))
    from digest.build import load
    from digest.cache import MarkdownCache
    from digest.config import load_config
    from digest.errors import Diagnostics

    config = load_config(root, {"base_url": "/"})
    with MarkdownCache(config.cache_path) as store:
        site, _ = load(config, Diagnostics(), store=store)
    prefix = f"{config.content_dir}/articles/"
    by_file = {page.article.path.removeprefix(prefix).removesuffix(".md"): page.url
               for page in site.articles}
    for item in judged:
        if item.wanted not in by_file:
            raise SystemExit(f"{item.wanted}: no such published article in {root}")
        item.url = by_file[item.wanted]


def score(found: list[str], url: str) -> Score:
    rank = found.index(url) + 1 if url in found else None
    return Score(1 / rank if rank else 0.0, bool(rank and rank <= 3), rank)


def run_set(site: Path, judged: list[Judged]) -> list[tuple[Judged, Score, Score]]:
    from playwright.sync_api import sync_playwright

    rows = []
    with serve(site) as address, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(address + "/judge.html")
        page.wait_for_function("window.judgeReady === true", timeout=60_000)
        for item in judged:
            found = page.evaluate("query => window.judge(query)", item.query)
            rows.append((item, score(found["digest"], item.url),
                         score(found["pagefind"], item.url)))
        browser.close()
    return rows


def summary(name: str, rows: list[tuple[Judged, Score, Score]]) -> str:
    count = len(rows)
    ours, theirs = [r[1] for r in rows], [r[2] for r in rows]
    mrr = [sum(s.reciprocal for s in scores) / count for scores in (ours, theirs)]
    top3 = [sum(s.top3 for s in scores) / count for scores in (ours, theirs)]
    verdict = "PASS" if mrr[0] >= mrr[1] and top3[0] >= top3[1] else "MISS"
    return (f"| {name} | {count} | {mrr[0]:.3f} | {mrr[1]:.3f} | {top3[0]:.3f} | "
            f"{top3[1]:.3f} | {verdict} |")


def misses(rows: list[tuple[Judged, Score, Score]]) -> list[str]:
    shown = []
    for item, ours, theirs in rows:
        if ours.rank != 1 or theirs.rank != 1:
            shown.append(f"  {item.query!r}: digest {ours.rank or '-'}, Pagefind "
                         f"{theirs.rank or '-'} ({item.wanted})")
    return shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "bench")
    parser.add_argument("--work", type=Path, help="keep the sites here (default: temp)")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--only", choices=("example", "shared10k"))
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="digest-judged-"))
    work.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in ("example", "shared10k"):
        if args.only and name != args.only:
            continue
        if name == "shared10k" and not (args.shared / "corpus.py").is_file():
            print(f"skipped {name}: {args.shared}/corpus.py not found (--shared)")
            continue
        root = prepare_example(work) if name == "example" else \
            prepare_shared(work, args.shared, args.articles)
        judged = read_set(name)
        site = build_both(root)
        attach_urls(root, judged)
        results[name] = run_set(site, judged)
    print(f"\nJudged queries, first {TOP} results; Pagefind {PAGEFIND_VERSION} on the same "
          "built site")
    print("| set | queries | digest MRR@10 | Pagefind MRR@10 | digest success@3 | "
          "Pagefind success@3 | digest ≥ Pagefind |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, rows in results.items():
        print(summary(name, rows))
    for name, rows in results.items():
        print(f"\n{name}: queries where either engine did not rank the meant article first")
        print("\n".join(misses(rows)) or "  (none)")
    print("\n" + json.dumps({name: {"digest_mrr": sum(r[1].reciprocal for r in rows) /
                                    len(rows)} for name, rows in results.items()}))


if __name__ == "__main__":
    main()
