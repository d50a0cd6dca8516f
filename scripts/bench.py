"""Benchmark: build a synthetic N-article site and report time, pages and peak memory.

    python scripts/bench.py [--articles 10000] [--keep DIR]

Not a test: numbers depend on the machine. The synthetic site (`write_site`, also used
by scripts/bench_search.py) is deterministic for a given seed and article count:

- ~640-word articles whose words follow a Zipf–Mandelbrot law over ~26,000 words: English
  function words at the top, then business vocabulary mixed with pronounceable
  pseudo-words, then a long tail of pseudo-words; plus numbers ("3.75", "1,200", years)
  and company names, some with Chinese aliases (e.g. "Velora Holdings (华瑞科技)").
- 300 companies mentioned with a Zipf skew (a few big ones, a long tail), 200 of them
  registered in content/companies/ with aliases (a ticker-like alias; a Chinese one for
  a third of them); 20 topics in content/topics/; dates spread over 2019–2024; one event
  per article.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

FUNCTION_WORDS = ("the of and to a in that is for on with as by at from it its was has "
                  "have are be this will said which an or but not their more than also "
                  "after about over into were been would its while could up new").split()
BUSINESS_WORDS = (
    "revenue market company business growth quarter year percent billion million shares "
    "investors cloud platform profit sales customers services chief executive analysts "
    "users price prices demand operating results data technology group unit stock "
    "listing regulator regulators merger acquisition logistics consumer margin margins "
    "strategy guidance expansion competition pricing subscribers advertising "
    "semiconductor semiconductors export exports capital board restructuring earnings "
    "forecast valuation dividend buyback deal deals funding round startup startups "
    "venture fund funds bank banks loan loans debt bond bonds credit payments payment "
    "ecommerce retail retailer merchants delivery supply chain factory factories "
    "manufacturing chips chip smartphone smartphones devices software hardware "
    "artificial intelligence model models computing servers data centre centers "
    "infrastructure network subscribers streaming gaming games media content video "
    "music education healthcare insurance property developers real estate energy "
    "battery batteries electric vehicles vehicle autos carmaker carmakers charging "
    "solar power grid oil gas steel shipping airline airlines travel hotel hotels "
    "tourism exchange index inflation interest rates rate central policy ministry "
    "government state officials antitrust fine fines probe investigation compliance "
    "license approval filing prospectus offering underwriters listing delisting "
    "layoffs staff employees workforce hiring salary management founder chairman "
    "president director shareholders stake stakes spin off subsidiary parent "
    "holding holdings partnership partner partners contract contracts orders backlog "
    "inventory cost costs spending budget investment investments return returns "
    "quarterly annual fiscal outlook estimate estimates consensus forecast decline "
    "rise rose fell gain gains loss losses drop surge slump recovery slowdown "
    "economy economic global domestic overseas international region regional china "
    "chinese beijing shanghai shenzhen hangzhou hong kong singapore europe american "
    "brand brands marketing campaign launch launched product products release "
    "version feature features security privacy rules regulation reform reforms"
).split()
PSEUDO_WORDS = 25_000
# Where two query words sit in the Zipf ranking (rank 0 is "the"): "revenue" is in most
# articles, "cloud" in about a third.
PINNED_RANKS = {"revenue": 48, "cloud": 190}
ZIPF_S, ZIPF_Q = 1.0, 2.7
ONSETS = ("b c d f g h j k l m n p r s t v w z br cr dr fr gr pr tr bl cl fl gl pl sl "
          "ch sh th st sk sp qu").split()
VOWELS = "a e i o u a e i o ai ea io ou".split()
CODAS = ["", "", "", "n", "r", "l", "s", "x", "m", "nt", "rk", "st", "nd"]
COMPANY_SUFFIXES = ("Holdings Group Technologies Cloud Capital Motors Networks Energy "
                    "Logistics Media Semiconductor Pharma Bank Retail Robotics").split()
CJK_NAME_CHARACTERS = ("华科技云网通达信联智新天中国恒瑞腾海金融电子数据创美团京东"
                       "阿里巴百度小米比亚迪宁德时代拼多快手")
TOPICS = [("Cloud", ["cloud computing"]), ("IPO", ["IPOs", "initial public offering"]),
          ("Earnings", ["results"]), ("AI", ["artificial intelligence"]),
          ("Regulation", ["regulators"]), ("Logistics", []), ("E-commerce", ["ecommerce"]),
          ("Restructuring", ["layoffs"]), ("Leadership", []), ("Funding", ["venture"]),
          ("Chips", ["semiconductors"]), ("Gaming", []), ("Advertising", []),
          ("Payments", ["fintech"]), ("Autos", ["electric vehicles"]), ("Energy", []),
          ("Healthcare", []), ("Media", ["streaming"]), ("Travel", []),
          ("Real Estate", ["property"])]
EVENT_TYPES = ["ipo", "earnings", "acquisition", "restructuring", "regulation", "funding",
               "partnership", "leadership", "product", "other"]
TITLE_VERBS = ("reports plans cuts raises expands launches delays wins faces sells buys "
               "unveils weighs restructures files").split()
REGISTERED_COMPANIES = 200
SAMPLE_SECONDS = 0.5  # memory sampling: often enough, cheap enough on 2 cores
COMPANIES = 300


@dataclass(frozen=True)
class Company:
    name: str
    slug: str
    aliases: tuple[str, ...]
    registered: bool

    @property
    def chinese_alias(self) -> str | None:
        return next((a for a in self.aliases if not a.isascii()), None)


@dataclass
class SyntheticSite:
    """What was generated, and the words and companies the search queries use."""

    root: Path
    articles: int
    companies: list[Company]
    common_word: str
    two_words: str
    company_query: Company  # searched by name
    filter_company: Company  # the company filter without a query (the most mentioned)
    rare_word: str
    rare_word_articles: int
    edit_path: Path  # the article the incremental check edits
    mentions: dict[str, int] = field(default_factory=dict)  # company slug → articles


def pseudo_words(rng: random.Random, count: int, exclude: set[str]) -> list[str]:
    words: list[str] = []
    seen = set(exclude)
    while len(words) < count:
        syllables = rng.choice((2, 2, 2, 2, 3))
        word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables))
        word += rng.choice(CODAS)
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def vocabulary(rng: random.Random) -> tuple[list[str], list[float], list[str]]:
    """Words by Zipf rank, their cumulative weights, and the pseudo-word tail."""
    business = [w for w in dict.fromkeys(BUSINESS_WORDS)
                if w not in FUNCTION_WORDS and w not in PINNED_RANKS]
    function = list(dict.fromkeys(FUNCTION_WORDS))
    pseudo = pseudo_words(rng, PSEUDO_WORDS, set(business) | set(function) | set(PINNED_RANKS))
    middle = business + pseudo[:2000]
    # Business words mostly rank above pseudo-words of the same band.
    keys = {w: rng.random() * (0.25 if i < len(business) else 1.0)
            for i, w in enumerate(middle)}
    middle.sort(key=keys.__getitem__)
    words = function + middle + pseudo[2000:]
    for word, rank in sorted(PINNED_RANKS.items(), key=lambda item: item[1]):
        words.insert(rank, word)
    weights = [1.0 / (rank + 1 + ZIPF_Q) ** ZIPF_S for rank in range(len(words))]
    return words, list(itertools.accumulate(weights)), pseudo[-3000:]


def make_companies(rng: random.Random, stems: list[str]) -> list[Company]:
    companies: list[Company] = []
    used: set[str] = set()
    for stem in stems:
        if len(companies) == COMPANIES:
            break
        name = f"{stem.capitalize()} {rng.choice(COMPANY_SUFFIXES)}"
        slug = name.lower().replace(" ", "-")
        if slug in used:
            continue
        used.add(slug)
        index = len(companies)
        registered = index < REGISTERED_COMPANIES
        aliases: list[str] = []
        if registered:
            ticker = stem[:4].upper()
            while ticker.casefold() in used:
                ticker = stem[:3].upper() + str(rng.randint(1, 99))
            aliases.append(ticker)
            if index % 3 == 0:
                chinese = ""
                while not chinese or chinese in used:
                    chinese = "".join(rng.choice(CJK_NAME_CHARACTERS)
                                      for _ in range(rng.choice((2, 3, 4, 4))))
                aliases.append(chinese)
            used.update(a.casefold() for a in aliases)
        companies.append(Company(name, slug, tuple(aliases), registered))
    rng.shuffle(companies)  # popularity follows list order: mix registered and not
    return companies


def yaml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML scalar


def sentences(words: list[str], rng: random.Random) -> list[str]:
    result: list[str] = []
    position = 0
    while position < len(words):
        length = rng.randint(8, 24)
        chunk = words[position:position + length]
        position += length
        if len(chunk) > 6 and rng.random() < 0.4:
            cut = rng.randint(3, len(chunk) - 3)
            chunk[cut - 1] += ","
        chunk[0] = chunk[0][:1].upper() + chunk[0][1:]
        result.append(" ".join(chunk) + ".")
    return result


def number(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.3:
        return str(rng.randint(2, 99))
    if kind < 0.5:
        return f"{rng.randint(1, 99)}.{rng.randint(0, 99):02d}"
    if kind < 0.65:
        return f"{rng.randint(1, 999)},{rng.randint(0, 999):03d}"
    if kind < 0.8:
        return str(rng.randint(2010, 2024))
    if kind < 0.9:
        return f"{rng.randint(1, 60)}%"
    return f"${rng.randint(1, 99)}.{rng.randint(1, 9)} billion"


def write_site(root: Path, count: int, seed: int = 7,
               templates: Path | None = None) -> SyntheticSite:
    """Write pyproject.toml, content/ and (if given) a copy of `templates` under root."""
    rng = random.Random(seed)
    words, cumulative, tail = vocabulary(rng)
    companies = make_companies(rng, pseudo_words(rng, COMPANIES * 2, set(words)))
    company_weights = list(itertools.accumulate(1.0 / (r + 1) ** 0.9
                                                for r in range(len(companies))))
    topic_weights = list(itertools.accumulate(1.0 / (r + 1) ** 0.7
                                              for r in range(len(TOPICS))))
    content = root / "content"
    for kind in ("companies", "topics", "articles"):
        (content / kind).mkdir(parents=True, exist_ok=True)
    for company in companies:
        if company.registered:
            aliases = ", ".join(map(yaml_string, company.aliases))
            (content / f"companies/{company.slug}.md").write_text(
                f"---\nname: {yaml_string(company.name)}\naliases: [{aliases}]\n"
                f"sector: {yaml_string(rng.choice(TOPICS)[0])}\n---\n"
                f"{company.name} is a synthetic company of the search benchmark.\n",
                encoding="utf-8")
    for name, topic_aliases in TOPICS:
        slug = name.lower().replace(" ", "-")
        (content / f"topics/{slug}.md").write_text(
            f"---\nname: {yaml_string(name)}\n"
            f"aliases: [{', '.join(map(yaml_string, topic_aliases))}]\n---\n",
            encoding="utf-8")

    rare_candidates = set(tail[-400:])
    rare_counts: dict[str, int] = dict.fromkeys(rare_candidates, 0)
    mentions: dict[str, int] = {}
    start = datetime(2019, 1, 1)
    span_minutes = int((datetime(2024, 12, 31, 23, 59) - start).total_seconds() // 60)
    edit_number = count // 2
    edit_path = root
    for number_ in range(count):
        moment = start + timedelta(minutes=rng.randrange(span_minutes))
        picked: list[Company] = []
        for company in rng.choices(companies, cum_weights=company_weights,
                                   k=rng.choice((1, 2, 2, 3, 4))):
            if company not in picked:
                picked.append(company)
        for company in picked:
            mentions[company.slug] = mentions.get(company.slug, 0) + 1
        tags = list(dict.fromkeys(t[0] for t in rng.choices(TOPICS, cum_weights=topic_weights,
                                                             k=rng.choice((1, 2, 3)))))
        body_words = rng.choices(words, cum_weights=cumulative, k=rng.randint(560, 700))
        for position in rng.sample(range(len(body_words)), 20):
            body_words[position] = number(rng)
        for company in picked:
            for mention in range(rng.randint(1, 4) if company is picked[0] else 1):
                text = company.name
                alias = company.chinese_alias
                if mention == 0 and alias and rng.random() < 0.5:
                    text = f"{company.name} ({alias})"
                body_words.insert(rng.randrange(len(body_words)), text)
        rare_counts.update((w, rare_counts[w] + 1) for w in set(body_words) & rare_candidates)
        said = sentences(body_words, rng)
        paragraphs = [" ".join(said[i:i + 4]) for i in range(0, len(said), 4)]
        title_words = [w for w in rng.choices(words, cum_weights=cumulative, k=12)
                       if w not in FUNCTION_WORDS][:rng.randint(3, 5)]
        title = f"{picked[0].name} {rng.choice(TITLE_VERBS)} {' '.join(title_words)}"
        summary = " ".join(sentences(
            [picked[0].name, *rng.choices(words, cum_weights=cumulative, k=22)], rng))
        slug = "-".join([picked[0].slug, *title_words[:3], f"{number_:06d}"])
        day = moment.date().isoformat()
        folder = content / f"articles/{moment.year}"
        folder.mkdir(exist_ok=True)
        path = folder / f"{slug}.md"
        path.write_text(
            f"---\ntitle: {yaml_string(title)}\ndate: {moment:%Y-%m-%d %H:%M}\n"
            f"slug: {slug}\nsummary: {yaml_string(summary)}\n"
            f"tags: [{', '.join(map(yaml_string, tags))}]\n"
            f"companies: [{', '.join(yaml_string(c.name) for c in picked)}]\n"
            f"source: {{name: Wire, url: \"https://wire.example/{number_}\"}}\n"
            f"events:\n  - {{date: {day}, company: {yaml_string(picked[0].name)}, "
            f"type: {rng.choice(EVENT_TYPES)}, title: {yaml_string(title)}}}\n---\n"
            + "\n\n".join(paragraphs) + "\n",
            encoding="utf-8")
        if number_ == edit_number:
            edit_path = path
    (root / "pyproject.toml").write_text(
        '[tool.digest]\ntitle = "Synthetic Digest"\ntimezone = "Asia/Shanghai"\n',
        encoding="utf-8")
    if templates is not None:
        shutil.copytree(templates, root / "templates", dirs_exist_ok=True)

    by_mentions = sorted(companies, key=lambda c: (-mentions.get(c.slug, 0), c.slug))
    registered = [c for c in by_mentions if c.registered]
    present = sorted((n, w) for w, n in rare_counts.items() if n)
    rare_count, rare = present[0] if present else (0, tail[-1])
    return SyntheticSite(
        root=root, articles=count, companies=companies, common_word="revenue",
        two_words="cloud revenue",
        company_query=next((c for c in registered[4:] if c.chinese_alias), registered[0]),
        filter_company=by_mentions[0], rare_word=rare, rare_word_articles=rare_count,
        edit_path=edit_path, mentions=mentions)


@dataclass
class Measured:
    """A finished subprocess: wall seconds and memory.

    `max_rss` is the kernel's peak resident set of the largest single process in the
    tree (ru_maxrss from wait4: the process itself or any child it waited for, such as
    pool workers; a maximum, not a sum). `tree_pss` is the largest sum of proportional
    set sizes over the whole process tree, sampled every 0.5 s (shared pages of forked
    workers counted once; may miss a spike shorter than the interval)."""

    seconds: float
    max_rss: int
    tree_pss: int
    returncode: int
    stdout: str
    stderr: str

    def check(self, what: str) -> Measured:
        if self.returncode:
            sys.exit(f"{what} failed (exit {self.returncode}):\n{self.stderr[-4000:]}")
        return self


def process_tree(root: int) -> list[int]:
    """`root` and its descendants (from /proc/PID/task/TID/children: no full /proc scan)."""
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children", "rb") as handle:
                    pending.extend(map(int, handle.read().split()))
        except OSError:
            continue
    return tree


def pss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_measured(command: Sequence[str | Path], *, timeout: float,
                 cwd: Path | None = None) -> Measured:
    """Run a command to completion (killed after `timeout` seconds) and measure it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen([str(part) for part in command], stdout=out, stderr=err,
                                   cwd=cwd, start_new_session=True)
        done = threading.Event()
        peak = [0]

        def sample() -> None:
            while not done.wait(SAMPLE_SECONDS):
                peak[0] = max(peak[0], sum(map(pss_bytes, process_tree(process.pid))))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timer = threading.Timer(timeout, os.killpg, (process.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
            done.set()
            sampler.join()
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode == -signal.SIGKILL and seconds >= timeout:
            err.write(f"\n(killed after the {timeout:.0f} s timeout)\n".encode())
        out.seek(0)
        err.seek(0)
        return Measured(seconds, usage.ru_maxrss * 1024, peak[0], process.returncode,
                        out.read().decode(errors="replace"),
                        err.read().decode(errors="replace"))


def mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


def digest_build(root: Path, timeout: float = 3600) -> Measured:
    return run_measured([sys.executable, "-m", "digest", "build", "--root", root],
                        timeout=timeout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="write the synthetic site here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch)
        started = time.perf_counter()
        write_site(root, args.articles)
        print(f"generated {args.articles} articles in {time.perf_counter() - started:.1f} s")
        for run in ("cold", "again"):
            result = digest_build(root).check("digest build")
            print(f"build ({run}): {result.seconds:.1f} s wall, peak RSS "
                  f"{mib(result.max_rss)} (largest process), peak PSS "
                  f"{mib(result.tree_pss)} (all processes) | {result.stdout.strip()}")


if __name__ == "__main__":
    main()
