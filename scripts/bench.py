"""Benchmark: build a synthetic N-article site and report time, pages and peak memory.

    python scripts/bench.py [--articles 10000] [--keep DIR]

Not a test: numbers depend on the machine. Synthetic articles are ~640 words with
front matter like the example site's (companies, topics, one event each).
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ("market revenue cloud growth quarter investors shares listing regulator merger "
         "logistics platform consumer profit margin strategy guidance analysts expansion "
         "competition pricing subscribers advertising semiconductor export capital board "
         "restructuring earnings forecast valuation dividend buyback chief executive").split()
TOPICS = ["cloud", "IPO", "earnings", "AI", "regulation", "logistics", "e-commerce",
          "restructuring", "leadership", "funding", "chips", "gaming", "advertising",
          "payments", "autos", "energy", "healthcare", "media", "travel", "real estate"]
EVENT_TYPES = ["ipo", "earnings", "acquisition", "restructuring", "regulation", "funding",
               "partnership", "leadership", "product", "other"]


def write_site(root: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    companies = [f"Company {i:03d}" for i in range(300)]
    (root / "content/companies").mkdir(parents=True)
    for index, name in enumerate(companies[:200]):  # a third stay unregistered
        (root / f"content/companies/company-{index:03d}.md").write_text(
            f"---\nname: {name}\naliases: [C{index:03d}]\n---\nProfile of {name}.\n",
            encoding="utf-8")
    for number in range(count):
        year = rng.randint(2019, 2024)
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        picked = rng.sample(companies, 2)
        title = " ".join(rng.choice(WORDS) for _ in range(6)).capitalize() + f" {number}"
        body = "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(80)) + "."
                           for _ in range(8))
        folder = root / f"content/articles/{year}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"a{number:06d}.md").write_text(
            f"---\ntitle: \"{title}\"\ndate: {year}-{month:02d}-{day:02d} 09:30\n"
            f"tags: [{', '.join(rng.sample(TOPICS, 2))}]\n"
            f"companies: [{', '.join(picked)}]\n"
            f"source: {{name: Wire, url: https://wire.example/{number}}}\n"
            f"events:\n  - {{date: {year}-{month:02d}-{day:02d}, company: {picked[0]}, "
            f"type: {rng.choice(EVENT_TYPES)}, title: Something happened}}\n---\n{body}\n",
            encoding="utf-8")
    (root / "pyproject.toml").write_text('[tool.digest]\ntimezone = "Asia/Shanghai"\n',
                                         encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="write the synthetic site here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch)
        started = time.perf_counter()
        write_site(root, args.articles)
        print(f"generated {args.articles} articles in {time.perf_counter() - started:.1f} s")
        for run in ("cold", "again"):
            started = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "digest", "build", "--root", root],
                                    capture_output=True, text=True)
            seconds = time.perf_counter() - started
            if result.returncode:
                sys.exit(result.stderr[-3000:])
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f"build ({run}): {seconds:.1f} s wall, peak RSS {peak:.0f} MiB | "
                  f"{result.stdout.strip()}")


if __name__ == "__main__":
    main()
