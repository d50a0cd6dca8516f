"""Build the search index files from the site model (format: docs/SEARCH.md).

Fed from the model, not by re-parsing HTML. Files are named by the hash of their bytes
and cut at content-defined boundaries, so one edited article changes only the few files
that hold its terms, and the same site always gives the same bytes.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import zlib
from array import array
from collections import Counter, defaultdict
from collections.abc import (
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Any, TypeVar

from digest.cache import MarkdownCache
from digest.collector import forked_pool, worth_a_pool
from digest.model import ArticlePage, Site
from digest.search.stemmer import pair_terms, stem_term, title_terms
from digest.search.tokenizer import is_cjk, tokenize

VERSION = 2  # 2: stem terms (docs/SEARCH.md)
DAY_ZERO = date(1900, 1, 1)
DAY_BITS = 10  # ids are day << 10 | slot: up to 1,024 articles a day
FIELD_WEIGHTS = {"title": 6.0, "companies": 3.0, "topics": 2.0, "summary": 1.5, "body": 1.0}
BODY_WEIGHT = FIELD_WEIGHTS["body"]
K1, B, REFERENCE_LENGTH, SCALE = 1.2, 0.75, 300, 40
SHARD_BOUNDARY = 48  # a term with crc32 % 48 == 0 starts a shard: ~48 terms a shard
SPLIT_BOUNDARY = 6  # finer boundaries inside a shard that grew too big
SHARD_MAX_VALUES = 40_000  # numbers in a shard's postings before it is split further
OWN_SHARD_VALUES = 8_000  # a term this common gets a shard of its own
CHUNK_DOCUMENTS = 16  # documents a metadata chunk aims at
PARALLEL_THRESHOLD = 300


class IndexLimitError(ValueError):
    """A site the index cannot represent (more than 1,024 articles on one day)."""


@dataclass(frozen=True)
class Document:
    id: int
    page: ArticlePage


def day_number(day: date) -> int:
    return (day - DAY_ZERO).days


def assign_ids(pages: Sequence[ArticlePage]) -> list[Document]:
    """Stable ids: day << 10 | slot, slot from the URL's CRC, next free slot on a clash."""
    by_day: dict[int, list[ArticlePage]] = defaultdict(list)
    for page in pages:
        by_day[day_number(page.local_date.date())].append(page)
    documents = []
    for day, members in by_day.items():
        if len(members) > 1 << DAY_BITS:
            raise IndexLimitError(f"{len(members)} articles on one day; the index holds 1,024")
        taken: set[int] = set()
        for page in sorted(members, key=lambda p: p.url):
            slot = zlib.crc32(page.url.encode()) % (1 << DAY_BITS)
            while slot in taken:
                slot = (slot + 1) % (1 << DAY_BITS)
            taken.add(slot)
            documents.append(Document((day << DAY_BITS) | slot, page))
    return sorted(documents, key=lambda d: d.id)


def quantized_length(tokens: int) -> float:
    """Body length rounded to a power of 1.25, so small edits keep every impact."""
    return float(1.25 ** round(math.log(max(tokens, 1), 1.25)))


def document_impacts(fields: dict[str, str]) -> dict[str, int]:
    """Term → impact (1–255) for one document: field-weighted BM25 term frequency."""
    # The body first, its terms' weights made at C speed (it has most of the terms; its
    # weight is 1, so a term's weight is its count).
    tokens = tokenize(fields.get("body", ""))
    body_length = len(tokens)
    counts = Counter(tokens)
    weighted: defaultdict[str, float] = defaultdict(float, counts) if BODY_WEIGHT == 1 else \
        defaultdict(float, {term: BODY_WEIGHT * count for term, count in counts.items()})
    for name, text in fields.items():
        if name == "body":
            continue
        tokens = tokenize(text)
        weight = FIELD_WEIGHTS[name]
        for term, count in Counter(tokens).items():
            weighted[term] += weight * count
        if name == "title":
            for pair in pair_terms(tokens, is_cjk):
                weighted[pair] += weight
    # Every form of a word also counts for its stem ("plunged" → "plung~"), once per
    # distinct word; the exact form keeps its own, higher-ranking term. (Sums of these
    # weights are exact in binary: the order of adding changes nothing.)
    for stemmed, x in zip(list(map(stem_term, weighted)), list(weighted.values()),
                          strict=True):
        if stemmed is not None:
            weighted[stemmed] += x
    norm = K1 * (1 - B + B * quantized_length(body_length) / REFERENCE_LENGTH)
    # A document has only a handful of distinct weighted frequencies: compute each once.
    table = {x: max(1, min(255, round(SCALE * x * (K1 + 1) / (x + norm))))
             for x in set(weighted.values())}
    return dict(zip(weighted, map(table.__getitem__, weighted.values()), strict=True))


@dataclass(frozen=True)
class Source:
    """Everything one document's postings are made of: equal sources, equal postings.
    The body is its key in the Markdown store (the text is a function of it)."""

    title: str
    companies: str
    topics: str
    summary: str
    body: str
    facets: tuple[str, ...]  # #c:company, #t:topic, #y:year filter terms


def document_source(page: ArticlePage) -> Source:
    article = page.article
    names: list[str] = []
    for company in page.companies:
        names.append(company.name)
        if company.entry:
            names.extend(company.entry.aliases)
    topics = [t.name for t in page.topics] + [a for t in page.topics if t.entry
                                              for a in t.entry.aliases]
    facets = (*(f"#c:{c.slug}" for c in page.companies), *(f"#t:{t.slug}" for t in page.topics),
              f"#y:{page.local_date.year}")
    return Source(article.title, " ; ".join(names), " ; ".join(topics), article.summary,
                  article.body, facets)


def source_impacts(source: Source, store: MarkdownCache) -> dict[str, int]:
    impacts = document_impacts({"title": source.title, "companies": source.companies,
                                "topics": source.topics, "summary": source.summary,
                                "body": store.get(source.body).text})
    impacts.update(dict.fromkeys(source.facets, 1))
    # which words the headline has: a membership term each, "key^" (docs/SEARCH.md)
    impacts.update(dict.fromkeys(title_terms(tokenize(source.title)), 1))
    return impacts


# Work shared with forked workers: set before the pool starts, never pickled.
_SOURCES: list[Source] = []
_IDS: list[int] = []
_STORE: MarkdownCache | None = None


def _impacts_of(index: int) -> dict[str, int]:
    assert _STORE is not None
    return source_impacts(_SOURCES[index], _STORE)


def _postings_of(span: tuple[int, int]) -> dict[str, array[int]]:
    """The postings of the sources in `span` (a range of `_SOURCES`, ids ascending)."""
    assert _STORE is not None
    postings: dict[str, array[int]] = {}
    for index in range(*span):
        identifier = _IDS[index]
        # in id order every posting goes at the end: appended here, without a call each
        for term, impact in source_impacts(_SOURCES[index], _STORE).items():
            values = postings.get(term)
            if values is None:
                values = postings[term] = array("i")  # ids < 2^31 until the year 7700
            values.append(identifier)
            values.append(impact)
    return postings


Packed = tuple[list[str], "array[int]", "array[int]"]  # terms, their lengths, all values


def _packed_postings_of(span: tuple[int, int]) -> Packed:
    """A worker's span of postings in three objects, where a dict of arrays pickles as
    an object and a reconstructor call per term (150,000 at 100,000 articles)."""
    postings = _postings_of(span)
    values = array("i")
    for part in postings.values():
        values.extend(part)
    return list(postings), array("i", map(len, postings.values())), values


def join_packed(postings: dict[str, array[int]], packed: Packed) -> None:
    """Append a span's postings to those of the spans before it."""
    terms, lengths, values = packed
    data, size = memoryview(values).cast("B"), values.itemsize  # copied with memcpy
    at = 0
    for term, length in zip(terms, lengths, strict=True):
        known = postings.get(term)
        if known is None:
            known = postings[term] = array("i")
        known.frombytes(data[at:at + length * size])
        at += length * size


def use_workers(count: int) -> bool:
    """Whether `count` items are worth forking worker processes for."""
    return worth_a_pool(count, PARALLEL_THRESHOLD)


def all_impacts(sources: list[Source], store: MarkdownCache) -> Iterable[dict[str, int]]:
    """Impacts of every source in order, in worker processes for large sites."""
    global _SOURCES, _STORE
    parallel = use_workers(len(sources))
    if not parallel:  # workers read the bodies they need from the store themselves
        store.fetch(source.body for source in sources)
    _SOURCES, _STORE = sources, store
    try:
        if parallel:
            with forked_pool() as pool:
                yield from pool.imap(_impacts_of, range(len(sources)), chunksize=64)
        else:
            yield from map(_impacts_of, range(len(sources)))
    finally:
        _SOURCES, _STORE = [], None


@dataclass
class IndexState:
    """What the next build needs to update the index instead of making it again."""

    sources: Mapping[int, Source]  # document id → what its postings were made of
    postings: MutableMapping[str, array[int]]
    shards: dict[tuple[str, ...], str]  # a shard's terms → its file, while they are clean
    # a metadata chunk's key → what it holds and its file (comparing is cheaper than JSON)
    chunks: Mapping[int, tuple[dict[str, Any], str]] = field(default_factory=dict)
    # terms whose postings this build changed (None: all of them), for state.save_search
    dirty: set[str] | None = None
    ids: array[int] = field(default_factory=lambda: array("i"))  # every document's, ascending
    shift: int = -1  # chunk_shift_for the documents
    chunk_names: dict[int, str] = field(default_factory=dict)  # each chunk's file
    # the sources and chunks this build changed (key → value), when it went by the
    # documents it knew had changed; None: state.save_search compares them all
    changes: dict[str, dict[Any, Any]] | None = None
    facets: str = ""  # the facets file's name (under search/)


def insert_posting(postings: MutableMapping[str, array[int]], term: str, identifier: int,
                   impact: int) -> None:
    """Keep each term's ids ascending: appended when newest, which a build in id order
    makes the rule."""
    values = postings.get(term)
    if values is None:
        values = postings[term] = array("i")  # ids < 2^31 until the year 7700
    if not values or values[-2] < identifier:
        values.append(identifier)
        values.append(impact)
    else:
        at = 2 * bisect.bisect_left(values[0::2], identifier)
        values[at:at] = array("i", (identifier, impact))


def remove_posting(postings: MutableMapping[str, array[int]], term: str, identifier: int
                   ) -> None:
    values = postings[term]
    at = 2 * bisect.bisect_left(values[0::2], identifier)
    del values[at:at + 2]
    if not values:
        del postings[term]


def impacts_by_id(documents: list[tuple[int, Source]], store: MarkdownCache
                  ) -> dict[int, dict[str, int]]:
    return dict(zip((i for i, _ in documents),
                    all_impacts([s for _, s in documents], store), strict=True))


def differs(before: Source | None, now: Source) -> bool:
    """Whether a document's source changed. An edit carries the unchanged documents'
    sources over as the very same objects: the identity settles them, where a
    dataclass's `!=` compares every field (20 ms of a one-article edit at 10,000)."""
    return before is not now and before != now


def update_postings(sources: Mapping[int, Source], previous: IndexState | None,
                    store: MarkdownCache, early: FreshPostings | None = None,
                    changed: Collection[int] | None = None
                    ) -> tuple[MutableMapping[str, array[int]], set[str] | None]:
    """The postings of `sources`: the previous ones updated for the documents that
    changed, else built afresh (or by `early`, started for them). Also the terms whose
    postings changed (None: all): only terms whose impact in a document changed, so an
    edited sentence leaves the shards of the article's other words alone. `changed`:
    the only documents whose source may differ from the previous one's, when known."""
    if previous is not None:
        try:
            dirty: set[str] = set()
            postings = previous.postings
            known = previous.sources
            if changed is None:
                old = impacts_by_id([(i, s) for i, s in known.items()
                                     if differs(sources.get(i), s)], store)
                new = impacts_by_id(sorted(((i, s) for i, s in sources.items()
                                            if differs(known.get(i), s)),
                                           key=lambda item: item[0]), store)
            else:
                ids = sorted(i for i in changed if differs(known.get(i), sources[i]))
                old = impacts_by_id([(i, known[i]) for i in ids], store)
                new = impacts_by_id([(i, sources[i]) for i in ids], store)
            prefetch(postings, [term for before, after in ((old, new), (new, old))
                                for identifier, impacts in before.items()
                                for term, impact in impacts.items()
                                if after.get(identifier, {}).get(term) != impact])
            for identifier, impacts in old.items():
                now = new.get(identifier, {})
                for term, impact in impacts.items():
                    if now.get(term) != impact:
                        remove_posting(postings, term, identifier)
                        dirty.add(term)
            for identifier, impacts in new.items():
                before = old.get(identifier, {})
                for term, impact in impacts.items():
                    if before.get(term) != impact:
                        insert_posting(postings, term, identifier, impact)
                        dirty.add(term)
            return postings, dirty
        except KeyError:  # an old body left the store: build afresh
            pass
    if early is not None and early.sources is sources:
        return early.result(), None
    with FreshPostings(sources, store) as fresh:
        return fresh.result(), None


SPANS = 16  # pieces the documents of a large site are indexed in, a worker each at a time


class FreshPostings:
    """Every document's postings, made afresh from the moment this is made. A large
    site is cut into spans of consecutive documents (ids ascending) whose postings
    worker processes make whole, and `result()` joins them in order (one copy per term
    and span: handing each document's impacts back cost the main process a call per
    posting, 1.5 s at 10,000 articles). Meanwhile the caller goes on: a cold build
    plans and renders its pages while the index is made, so the cores its serial steps
    leave idle are used. (Joined by the caller's thread, not one of their own: arrays
    a second thread allocates live in another malloc arena, 150 MB more at 100,000.)"""

    def __init__(self, sources: Mapping[int, Source], store: MarkdownCache) -> None:
        global _SOURCES, _IDS, _STORE
        self.sources = sources
        ordered = sorted(sources.items(), key=lambda item: item[0])
        self.postings: dict[str, array[int]] = {}
        self.pool: Any = None
        self.parts: Iterator[Packed] = iter(())
        count = len(ordered)
        parallel = use_workers(count)
        if not parallel:  # this process makes them, now
            store.fetch(source.body for _, source in ordered)
        _SOURCES, _IDS, _STORE = [s for _, s in ordered], [i for i, _ in ordered], store
        if parallel:
            size = -(-count // SPANS)
            spans = [(start, min(start + size, count)) for start in range(0, count, size)]
            self.pool = forked_pool()
            self.parts = self.pool.imap(_packed_postings_of, spans)
        else:
            self.postings = _postings_of((0, count))
            self.close()

    def result(self) -> dict[str, array[int]]:
        for part in self.parts:
            join_packed(self.postings, part)
        self.close()
        return self.postings

    def close(self) -> None:
        """Stop the workers (if the build failed before it needed the index)."""
        global _SOURCES, _IDS, _STORE
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None
        _SOURCES, _IDS, _STORE = [], [], None

    def __enter__(self) -> FreshPostings:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def utf16_order(term: str) -> bytes:
    """JavaScript compares strings by UTF-16 code units; the browser's binary search
    needs the same order (it differs from code points beyond U+FFFF)."""
    return term.encode("utf-16-be")


def crc(term: str) -> int:
    return zlib.crc32(term.encode())


def cut_shards(terms: list[str], postings: Mapping[str, array[int]]) -> list[list[str]]:
    """Content-defined shard boundaries: they depend only on the terms around them."""
    shards: list[list[str]] = []
    previous_large = False
    for term in terms:
        large = len(postings[term]) >= OWN_SHARD_VALUES
        if not shards or large or previous_large or crc(term) % SHARD_BOUNDARY == 0:
            shards.append([])
        shards[-1].append(term)
        previous_large = large
    result: list[list[str]] = []
    for shard in shards:
        if sum(len(postings[t]) for t in shard) <= SHARD_MAX_VALUES:
            result.append(shard)
            continue
        pieces: list[list[str]] = [[]]
        for term in shard:
            if pieces[-1] and crc(term) % SPLIT_BOUNDARY == 0:
                pieces.append([])
            pieces[-1].append(term)
        result.extend(pieces)
    return result


def starts_block(term: str) -> bool:
    """A term whose crc puts a shard boundary before it whatever its neighbours are:
    the shards between two such terms (a block) depend on that block's terms alone."""
    return crc(term) % SHARD_BOUNDARY == 0


def recut(previous: list[tuple[str, ...]], postings: Mapping[str, array[int]],
          dirty: set[str]) -> list[list[str]]:
    """`cut_shards` of every term, from the previous cut (its shards in order) when only
    the `dirty` terms' postings changed (some new, some gone): only the blocks holding
    one are cut again (sorting and cutting 30,000 terms took a tenth of a one-article
    edit at 10,000 articles)."""
    order = [term for shard in previous for term in shard]

    def find(term: str) -> int:  # (a dict of 30,000 positions cost a tenth of an edit)
        return bisect.bisect_left(order, utf16_order(term), key=utf16_order)

    known = {term for term in dirty if (at := find(term)) < len(order) and order[at] == term}
    gone = {term for term in dirty if term not in postings}
    order = [term for term in order if term not in gone] if gone else order
    for term in sorted((t for t in dirty if t in postings and t not in known),
                       key=utf16_order):
        order.insert(find(term), term)
    if not order:
        return []
    touched: set[int] = set()
    for term in dirty:
        if term in postings:
            at = find(term)
            touched.add(at)
            # a new term that starts a block ends the one before it: cut again too
            if term not in known and at > 0:
                touched.add(at - 1)
    # where a term left, the block that now holds its place (its neighbours' block)
    touched.update(min(find(term), len(order) - 1) for term in gone)
    blocks: list[tuple[int, int]] = []  # [start, end) of the blocks to cut again
    for number in sorted(touched):
        if blocks and number < blocks[-1][1]:
            continue
        start = number
        while start > 0 and not starts_block(order[start]):
            start -= 1
        end = number + 1
        while end < len(order) and not starts_block(order[end]):
            end += 1
        blocks.append((start, end))
    prefetch(postings, (term for start, end in blocks for term in order[start:end]))
    kept = {shard[0]: shard for shard in previous}
    cut: list[list[str]] = []
    number = 0
    for start, end in [*blocks, (len(order), len(order))]:
        while number < start:  # an untouched block: the shards it had
            shard = kept.get(order[number], ())
            if not shard or list(shard) != order[number:number + len(shard)]:
                return cut_shards(order, postings)  # (not the cut it was: cut them all)
            cut.append(list(shard))
            number += len(shard)
        if start < end:
            cut += cut_shards(order[start:end], postings)
            number = end
    return cut


def delta_encode(values: array[int]) -> list[int]:
    encoded = list(values)
    ids = encoded[0::2]
    encoded[2::2] = [b - a for a, b in pairwise(ids)]
    return encoded


def dump(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True).encode("utf-8")


Emit = Callable[[str, bytes | None], None]  # a search file made (bytes) or kept (None)


def named(folder: str, data: bytes, emit: Emit) -> str:
    name = f"{folder}/{hashlib.sha256(data).hexdigest()[:12]}.json"
    emit(f"search/{name}", data)
    return name


def chunk_shift_for(documents: list[Document]) -> int:
    """Bits of id per metadata chunk, so that a chunk holds about 16 documents."""
    if not documents:
        return DAY_BITS
    days = (documents[-1].id >> DAY_BITS) - (documents[0].id >> DAY_BITS) + 1
    days_per_chunk = CHUNK_DOCUMENTS * days / len(documents)
    return DAY_BITS + max(0, min(12, round(math.log2(max(days_per_chunk, 1)))))


def metadata(page: ArticlePage) -> list[Any]:
    article = page.article
    return [article.title, page.url, page.local_date.date().isoformat(), article.summary,
            [c.name for c in page.companies], [t.name for t in page.topics]]


_POSTINGS: dict[str, array[int]] = {}  # for forked workers, as _SOURCES


def _shard_file(shard: list[str]) -> bytes:
    return dump({"terms": shard, "postings": [delta_encode(_POSTINGS[t]) for t in shard]})


def prefetch(postings: Mapping[str, array[int]], terms: Iterable[str]) -> None:
    """Read these terms' postings in a few queries, when `postings` reads rows from
    the state's database (search/store.Rows) one at a time."""
    read_many = getattr(postings, "prefetch", None)  # (a plain dict has them all)
    if read_many is not None:
        read_many(terms)


def shard_files(shards: list[list[str]], postings: Mapping[str, array[int]]
                ) -> Iterator[bytes]:
    """The bytes of each shard in order, in worker processes when there are many (a
    cold build of 10,000 articles encodes 3,500 shards: 2 s in one process); streamed,
    so that the files of a large index are never all in memory."""
    global _POSTINGS
    # a plain dict of the shards' terms: rows read from the state's database (search/
    # store.py) are read here, not by forked workers
    if not isinstance(postings, dict):
        prefetch(postings, (term for shard in shards for term in shard))
    _POSTINGS = postings if isinstance(postings, dict) else \
        {term: postings[term] for shard in shards for term in shard}
    try:
        if use_workers(len(shards)):
            with forked_pool() as pool:
                yield from pool.imap(_shard_file, shards, chunksize=32)
        else:
            yield from map(_shard_file, shards)
    finally:
        _POSTINGS = {}


def build_index(site: Site, store: MarkdownCache, previous: IndexState | None = None,
                exists: Callable[[str], bool] = lambda relative: False
                ) -> tuple[dict[str, bytes | None], IndexState]:
    """Every search file, keyed by its path under the site root; None for a file that
    is unchanged since `previous` and `exists` in the output folder (keep it)."""
    files: dict[str, bytes | None] = {}
    return files, write_index(site, store, files.__setitem__, previous, exists)


K = TypeVar("K")
V = TypeVar("V")


class Overlay(Mapping[K, V]):
    """`base` with some of its values replaced (`changes`): what an edit that keeps
    every document makes of the last build's sources and chunks, without copying (or
    reading: search/store.py) the others."""

    def __init__(self, base: Mapping[K, V], changes: Mapping[K, V]) -> None:
        if isinstance(base, Overlay):  # (serve lays edit over edit: kept flat)
            changes = {**base.changes, **changes}
            base = base.base
        self.base: Mapping[K, V] = base
        self.changes: dict[K, V] = dict(changes)

    def __getitem__(self, key: K) -> V:
        try:
            return self.changes[key]
        except KeyError:
            return self.base[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self.base)

    def __len__(self) -> int:
        return len(self.base)


@dataclass(frozen=True)
class Documents:
    """The documents of one site model and what the index takes from each."""

    site: Site
    documents: list[Document]
    sources: Mapping[int, Source]
    metadata: Mapping[int, list[Any]]
    # made from another Documents over the same model (index_documents): its sources,
    # and the ids of the documents whose source or metadata were made again
    derived_from: Mapping[int, Source] | None = None
    changed: frozenset[int] | None = None


def index_documents(site: Site, kept: Documents | None = None,
                    edited: Sequence[ArticlePage] | None = None) -> Documents:
    """The documents of `site`; from `kept` (serve's last build over the same model)
    when the only change is `edited` articles patched in with their shape unchanged
    (model.patch_site): then their ids are the same and only theirs are looked at."""
    if kept is not None and kept.site is site and edited is not None:
        pages = {id(page) for page in edited}
        made = [document for document in kept.documents if id(document.page) in pages]
        return Documents(site, kept.documents,
                         Overlay(kept.sources, {d.id: document_source(d.page) for d in made}),
                         Overlay(kept.metadata, {d.id: metadata(d.page) for d in made}),
                         kept.sources, frozenset(d.id for d in made))
    documents = assign_ids(site.articles)
    return Documents(site, documents,
                     {document.id: document_source(document.page) for document in documents},
                     {document.id: metadata(document.page) for document in documents})


def write_index(site: Site, store: MarkdownCache, emit: Emit,
                previous: IndexState | None = None,
                exists: Callable[[str], bool] = lambda relative: False,
                indexed: Documents | None = None,
                early: FreshPostings | None = None) -> IndexState:
    """Hand every search file to `emit` as it is made (its path under the site root and
    its bytes, or None for a file unchanged since `previous` that `exists` in the output
    folder), and return what the next build needs to update the index. `indexed`: the
    site's documents, if the caller has them (index_documents); `early`: their postings,
    started before (FreshPostings)."""
    indexed = indexed or index_documents(site)
    documents, sources = indexed.documents, indexed.sources
    # the documents of the last build's index, some of them made again: only theirs
    # are looked at (the others' sources, postings and chunks are not even read)
    changed = indexed.changed if previous is not None \
        and indexed.derived_from is previous.sources else None
    postings, dirty = update_postings(sources, previous, store, early, changed)
    shards, names = write_shards(previous.shards if previous is not None else {}, postings,
                                 dirty, emit, exists)

    shift = chunk_shift_for(documents)
    ids = array("i", (document.id for document in documents))
    chunks: dict[str, str] = {}
    made_chunks: Mapping[int, tuple[dict[str, Any], str]]
    changes: dict[str, dict[Any, Any]] | None = None
    if changed is not None and previous is not None and previous.shift == shift \
            and previous.ids == ids and previous.chunk_names:
        remade = remade_chunks(previous, indexed, changed, shift, emit, exists)
        chunks = {str(chunk): remade.changes[chunk][1] if chunk in remade.changes else name
                  for chunk, name in previous.chunk_names.items()}
        changes = {"sources": {i: sources[i] for i in changed}, "chunks": remade.changes}
        made_chunks = remade
    else:
        by_chunk: dict[int, dict[str, Any]] = defaultdict(dict)
        for document in documents:
            by_chunk[document.id >> shift][str(document.id)] = indexed.metadata[document.id]
        known_chunks = previous.chunks if previous is not None else {}
        fresh: dict[int, tuple[dict[str, Any], str]] = {}
        for chunk, members in sorted(by_chunk.items()):
            known_chunk = known_chunks.get(chunk)
            if known_chunk is not None and known_chunk[0] == members \
                    and exists(f"search/{known_chunk[1]}"):
                name = known_chunk[1]
                emit(f"search/{name}", None)
            else:
                name = named("d", dump(members), emit)
            chunks[str(chunk)] = name
            fresh[chunk] = (members, name)
        made_chunks = fresh

    years = Counter(page.local_date.year for page in site.articles)
    facets = {
        "companies": [[c.slug, c.name, len(c.articles)] for c in site.companies if c.articles],
        "topics": [[t.slug, t.name, len(t.articles)] for t in site.topics if t.articles],
        "years": [[year, count] for year, count in sorted(years.items(), reverse=True)],
    }
    facets_file = named("f", dump(facets), emit)
    write_manifest(ids, shift, shards, chunks, facets_file, emit)
    return IndexState(sources, postings, names, made_chunks, dirty, ids, shift,
                      {int(chunk): name for chunk, name in chunks.items()}, changes,
                      facets_file)


def write_shards(known: dict[tuple[str, ...], str], postings: Mapping[str, array[int]],
                 dirty: set[str] | None, emit: Emit, exists: Callable[[str], bool]
                 ) -> tuple[list[list[str]], dict[tuple[str, ...], str]]:
    """The postings' shards, each written unless `known` (the last build's shards by
    their terms) has it, it `exists` and none of its terms is `dirty` (None: all are);
    each shard's first term and file, and the files by terms."""
    shards = []
    names: dict[tuple[str, ...], str] = {}
    cut = recut(list(known), postings, dirty) if known and dirty is not None \
        else cut_shards(sorted(postings, key=utf16_order), postings)
    kept: dict[int, str] = {}
    for number, shard in enumerate(cut):
        name = known.get(tuple(shard))
        if name is not None and exists(f"search/{name}") and dirty is not None \
                and dirty.isdisjoint(shard):
            emit(f"search/{name}", None)
            kept[number] = name
    made = iter(shard_files([shard for number, shard in enumerate(cut) if number not in kept],
                            postings))
    for number, shard in enumerate(cut):
        name = kept[number] if number in kept else named("s", next(made), emit)
        names[tuple(shard)] = name
        shards.append([shard[0], name])
    return shards, names


def write_manifest(ids: array[int], shift: int, shards: list[list[str]],
                   chunks: dict[str, str], facets_file: str, emit: Emit) -> None:
    """search/index.json: what the browser loads first (docs/SEARCH.md)."""
    manifest = {
        "version": VERSION, "documents": len(ids),
        "newest_day": ids[-1] >> DAY_BITS if ids else 0,
        "day_bits": DAY_BITS, "chunk_shift": shift, "shards": shards, "chunks": chunks,
        "facets": facets_file,
        "weights": {"k1": K1, "b": B, "length": REFERENCE_LENGTH, "scale": SCALE},
    }
    emit("search/index.json", dump(manifest))


def reindex_bodies(previous: IndexState, changed: dict[int, Source], store: MarkdownCache,
                   emit: Emit, exists: Callable[[str], bool]) -> IndexState | None:
    """The index after documents whose bodies alone changed (`changed`: their sources
    now), from the last build's state alone: the same documents, metadata and facets,
    so only the shards of the terms whose impacts moved are written, with the manifest
    (express.py). None when the last build's data cannot settle it (a body gone from
    the store): the caller makes the index the usual way."""
    if not previous.chunk_names or not previous.facets or not previous.shards:
        return None
    sources = Overlay(previous.sources, changed)
    postings, dirty = update_postings(sources, previous, store, changed=set(changed))
    if dirty is None:
        return None
    shards, names = write_shards(previous.shards, postings, dirty, emit, exists)
    for name in previous.chunk_names.values():
        emit(f"search/{name}", None)
    emit(f"search/{previous.facets}", None)
    write_manifest(previous.ids, previous.shift, shards,
                   {str(chunk): name for chunk, name in previous.chunk_names.items()},
                   previous.facets, emit)
    return IndexState(sources, postings, names, previous.chunks, dirty, previous.ids,
                      previous.shift, previous.chunk_names, {"sources": dict(changed),
                                                             "chunks": {}}, previous.facets)


def document_id(previous: IndexState, page: ArticlePage) -> int | None:
    """The id the last build gave `page`'s document (its URL and day unchanged since):
    from its slot on, as assign_ids placed it (a clash takes the next free slot), the
    first id whose metadata has its URL; None when there is none."""
    day = day_number(page.local_date.date())
    slot = zlib.crc32(page.url.encode()) % (1 << DAY_BITS)
    ids = previous.ids
    for step in range(1 << DAY_BITS):
        identifier = (day << DAY_BITS) | ((slot + step) % (1 << DAY_BITS))
        at = bisect.bisect_left(ids, identifier)
        if at == len(ids) or ids[at] != identifier:
            return None
        held = previous.chunks[identifier >> previous.shift][0].get(str(identifier))
        if held is not None and held[1] == page.url:
            return identifier
    return None


def remade_chunks(previous: IndexState, indexed: Documents, changed: Collection[int],
                  shift: int, emit: Emit, exists: Callable[[str], bool]
                  ) -> Overlay[int, tuple[dict[str, Any], str]]:
    """The metadata chunks of the last build's documents after `changed` ones were made
    again: those holding one are compared with what they held (and written when they
    differ), the others are kept by name; a chunk file missing from the output folder
    is written again from what its chunk held."""
    touched: dict[int, list[int]] = defaultdict(list)
    for identifier in changed:
        touched[identifier >> shift].append(identifier)
    remade: dict[int, tuple[dict[str, Any], str]] = {}
    for chunk, name in sorted(previous.chunk_names.items()):
        if chunk in touched:
            known, _ = previous.chunks[chunk]
            members = dict(known)
            members.update((str(i), indexed.metadata[i]) for i in touched[chunk])
            if members == known and exists(f"search/{name}"):
                emit(f"search/{name}", None)
            else:
                remade[chunk] = (members, named("d", dump(members), emit))
        elif exists(f"search/{name}"):
            emit(f"search/{name}", None)
        else:
            known, _ = previous.chunks[chunk]
            named("d", dump(known), emit)
    return Overlay(previous.chunks, remade)
