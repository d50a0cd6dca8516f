"""The search index, Python side: tokenizer vectors, ids, incrementality, switches."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from digest.search.indexer import DAY_BITS, assign_ids, quantized_length
from digest.search.tokenizer import fold_latin, normalize, parse_query, tokenize
from tests.conftest import REPO, RunDigest

VECTORS = json.loads((REPO / "tests/tokenizer_vectors.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("vector", VECTORS, ids=[v["text"][:24] for v in VECTORS])
def test_python_tokenizer_matches_shared_vectors(vector: dict[str, object]) -> None:
    text = str(vector["text"])
    assert tokenize(text) == vector["index"]
    assert parse_query(text) == (vector["query"], vector["prefix"])


def test_spec_case_folding_equals_python_casefold_on_every_vector() -> None:
    import unicodedata
    for vector in VECTORS:
        text = unicodedata.normalize("NFKC", str(vector["text"]))
        assert normalize(text) == fold_latin(unicodedata.normalize("NFKC", text.casefold()))


def read_index(site: Path) -> tuple[dict[str, object], dict[str, bytes]]:
    files = {p.relative_to(site).as_posix(): p.read_bytes()
             for p in (site / "search").rglob("*.json")}
    return json.loads(files["search/index.json"]), files


def postings_of(site: Path, term: str) -> list[int]:
    manifest, files = read_index(site)
    shards = manifest["shards"]
    assert isinstance(shards, list)
    name = [file for first, file in shards if first.encode("utf-16-be")
            <= term.encode("utf-16-be")][-1]
    shard = json.loads(files[f"search/{name}"])
    encoded = shard["postings"][shard["terms"].index(term)]
    ids, total = [], 0
    for gap in encoded[0::2]:
        total += gap
        ids.append(total)
    return ids


def test_company_aliases_and_cjk_bigrams_are_indexed(built_example: Path) -> None:
    alibaba = set(postings_of(built_example, "#c:alibaba"))
    assert len(alibaba) >= 6
    for term in ("阿里", "里巴", "巴巴", "baba", "alibaba"):
        assert alibaba <= set(postings_of(built_example, term)), term


def test_shards_are_small_and_named_by_their_bytes(built_example: Path) -> None:
    import hashlib
    manifest, files = read_index(built_example)
    for name, data in files.items():
        if name != "search/index.json":
            assert name.endswith(hashlib.sha256(data).hexdigest()[:12] + ".json")
            assert len(gzip.compress(data)) <= 50_000
    assert manifest["documents"] == len(list((REPO / "content/articles").rglob("*.md")))


def test_ids_do_not_move_when_an_article_is_added(built_example: Path) -> None:
    from digest.build import load
    from digest.config import load_config
    from digest.errors import Diagnostics

    site, _ = load(load_config(REPO), Diagnostics())
    before = {d.page.url: d.id for d in assign_ids(site.articles)}
    after = {d.page.url: d.id for d in assign_ids(site.articles[1:])}
    assert all(before[url] == after[url] for url in after)
    assert all(identifier >> DAY_BITS > 40_000 for identifier in before.values())


def test_quantized_length_ignores_small_edits() -> None:
    assert quantized_length(640) == quantized_length(650)


def test_editing_one_article_rewrites_few_index_files(digest: RunDigest,
                                                      example_site: Path) -> None:
    assert digest("build", "-q", cwd=example_site).returncode == 0
    search = example_site / "site/search"
    before = {p.relative_to(search): p.stat().st_ino for p in search.rglob("*") if p.is_file()}
    article = example_site / "content/articles/2023/alibaba-cloud-ipo-plan.md"
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("modest 2% increase", "modest 2% rise"), encoding="utf-8")
    assert digest("build", "-q", cwd=example_site).returncode == 0
    after = {p.relative_to(search): p.stat().st_ino for p in search.rglob("*") if p.is_file()}
    unchanged = {name for name in before if after.get(name) == before[name]}
    rewritten = set(after) - unchanged
    assert 1 <= len(rewritten) <= 6, sorted(map(str, rewritten))
    assert len(unchanged) >= len(before) - 6


def test_search_false_leaves_search_out(digest: RunDigest, example_site: Path) -> None:
    pyproject = example_site / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace("[tool.digest]\n", "[tool.digest]\nsearch = false\n"),
                         encoding="utf-8")
    assert digest("build", "-q", cwd=example_site).returncode == 0
    site = example_site / "site"
    assert not (site / "search").exists()
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "search.js" not in home and 'role="search"' not in home


STEMS = [line.split(" ") for line in
         (REPO / "tests/stemmer_vectors.txt").read_text(encoding="utf-8").splitlines()]


def test_stemmer_vectors_are_snowball_english() -> None:
    """The shared vectors (also read by tests/js/stemmer.test.mjs) hold what the
    indexer's stemmer gives: the example site's whole vocabulary and a large word list."""
    from digest.search.stemmer import stem, stem_term
    from digest.search.tokenizer import tokenize

    assert len(STEMS) > 20_000
    assert all(stem(word) == stemmed for word, stemmed in STEMS)
    listed = {word for word, _ in STEMS}
    vocabulary = {t for p in (REPO / "content").rglob("*.md")
                  for t in tokenize(p.read_text(encoding="utf-8"))
                  if t.isascii() and t.isalpha()}
    assert vocabulary <= listed, "every word of the example site is a vector"
    assert stem("withdraws") == "withdraw" and stem("shares") == "share"
    assert stem("plunged") == stem("plunge") == "plung"
    assert stem_term("阿里") is None and stem_term("9988") is None
    assert stem_term("shares") == "share~"


def test_recut_equals_a_fresh_cut_after_random_changes() -> None:
    """The incremental cut (only the blocks holding changed terms cut again) is the cut
    made afresh, for terms added, removed and grown past a shard of their own."""
    import random
    from array import array

    from digest.search.indexer import OWN_SHARD_VALUES, cut_shards, recut, utf16_order

    rng = random.Random(5)
    words = [f"{rng.choice('abcdefghij')}{rng.randint(0, 9999)}" for _ in range(3000)]
    for _ in range(60):
        postings = {w: array("i", [0] * rng.choice([2, 40, 400, OWN_SHARD_VALUES]))
                    for w in rng.sample(words, 1200)}
        previous = [tuple(s) for s in cut_shards(sorted(postings, key=utf16_order), postings)]
        dirty: set[str] = set()
        for word in rng.sample(words, rng.randint(1, 40)):
            change = rng.random()
            if word in postings and change < 0.3:
                del postings[word]
            elif change < 0.7:
                postings[word] = array("i", [0] * rng.choice([2, 40, 40_000, OWN_SHARD_VALUES]))
            else:
                continue
            dirty.add(word)
        assert recut(previous, postings, dirty) == \
            cut_shards(sorted(postings, key=utf16_order), postings)


def test_a_text_is_cut_at_its_few_cjk_characters_as_the_regex_cuts_it() -> None:
    """tokenizer._split_at_cjk finds the runs of a text's CJK characters with str.find
    where they are few: the pieces are those of the regex's split, whatever the text."""
    import random

    from digest.search import tokenizer
    random.seed(8)
    alphabet = [*"ab 1.,中文한국华", "科技", " ", "x", "’s"]
    tried = 0
    for _ in range(20_000):
        text = "".join(random.choice(alphabet) for _ in range(random.randint(1, 25)))
        cjk = sorted({char for char in text if tokenizer.is_cjk(char)})
        if cjk:
            tried += 1
            assert tokenizer._split_at_cjk(text, cjk) == tokenizer._cjk_runs().split(text)
    for many in ("".join(chr(0x4E00 + i) + " x" for i in range(tokenizer.FEW_CJK + 1)),
                 "中文 " * (tokenizer.FEW_PLACES + 1)):
        cjk = sorted({char for char in many if tokenizer.is_cjk(char)})
        assert tokenizer._split_at_cjk(many, cjk) == tokenizer._cjk_runs().split(many)
    assert tried > 10_000
