// The query engine on small hand-made index data: shard lookup in UTF-16 order, prefix
// expansion across shards and its cap, BM25 impacts with idf, stems, partial matches,
// facets, retries.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SearchIndex, decode, yearOf } from "../../templates/static/search-engine.js";

const NEWEST = 45291; // 2024-01-02, in days since 1900-01-01
const id = (day, slot) => day * 1024 + slot;
const A = id(NEWEST, 1); // 2024-01-02
const B = id(NEWEST - 365, 2); // a year older: 2023-01-02
const C = id(NEWEST - 3650, 3); // ten years older: 2014
const encode = (pairs) => pairs.flatMap(([doc, impact], i) =>
  [i ? doc - pairs[i - 1][0] : doc, impact]);
const many = Array.from({ length: 70 }, (_, i) => `pa${String(i).padStart(2, "0")}`);

function files() {
  return {
    "index.json": {
      version: 1, documents: 3, newest_day: NEWEST, day_bits: 10, chunk_shift: 20,
      // "𠀀" (U+20000) sorts before "～" (U+FF5E) in UTF-16, after it in code points
      shards: [["", "s/0.json"], ["cloud", "s/1.json"], ["clouds", "s/2.json"],
               ["pa", "s/3.json"], ["𠀀", "s/4.json"], ["～", "s/5.json"]],
      chunks: { [A >> 20]: "d/a.json", [B >> 20]: "d/b.json", [C >> 20]: "d/c.json" },
      facets: "f/0.json",
      weights: { k1: 1.2, b: 0.75, length: 300, scale: 40 },
    },
    // "alpha" is its own stem: no "alpha~" term (that holds only forms unlike the stem)
    "s/0.json": { terms: ["#c:acme", "#y:2023", "alpha", "clock"],
                  postings: [encode([[B, 1], [A, 1]]), encode([[B, 1]]),
                             encode([[C, 40], [B, 40], [A, 40]]), encode([[C, 80]])] },
    "s/1.json": { terms: ["cloud"], postings: [encode([[B, 40], [A, 40]])] },
    "s/2.json": { terms: ["clouds", "cloudy"], postings: [encode([[C, 200]]), encode([[A, 10]])] },
    "s/3.json": { terms: many,
                  postings: many.map((_, i) => encode([[C, 1], [B, 1], [A, 1]].slice(0, 1 + (i % 3)))) },
    "s/4.json": { terms: ["𠀀", "𠀀𠀁"], postings: [encode([[C, 5]]), encode([[C, 5]])] },
    "s/5.json": { terms: ["～"], postings: [encode([[A, 5]])] },
    "d/a.json": { [A]: ["Alpha cloud", "2024/a/", "2024-01-02", "A.", ["Acme"], []] },
    "d/b.json": { [B]: ["Beta cloud", "2023/b/", "2023-01-02", "B.", ["Acme"], []] },
    "d/c.json": { [C]: ["Gamma clock", "2014/c/", "2014-01-04", "C.", [], []] },
    "f/0.json": { companies: [["acme", "Acme", 2]], topics: [], years: [[2024, 1]] },
  };
}

function indexOf(data = files(), fail = new Set()) {
  const fetched = [];
  const index = new SearchIndex(async (path) => {
    fetched.push(path);
    if (fail.delete(path)) throw new Error(`${path}: 503`);
    return structuredClone(data[path]);
  });
  return { index, fetched };
}

test("decode turns gaps back into ids", () => {
  assert.deepEqual(decode(encode([[B, 3], [A, 9]])), [[B, 3], [A, 9]]);
  assert.deepEqual(decode([]), []);
});

test("ids give the year", () => {
  assert.equal(yearOf(A), 2024);
  assert.equal(yearOf(B), 2023);
  assert.equal(yearOf(id(0, 0)), 1900);
});

test("a term lives in the last shard whose first term is <= it, in UTF-16 order", async () => {
  const { index } = indexOf();
  await index.open();
  assert.equal(index.shardIndex("alpha"), 0);
  assert.equal(index.shardIndex("cloud"), 1);
  assert.equal(index.shardIndex("cloudr"), 1);
  assert.equal(index.shardIndex("cloudy"), 2);
  assert.equal(index.shardIndex("𠀁"), 4); // beyond U+FFFF: before "～" in UTF-16
  assert.equal(index.shardIndex("～～"), 5);
  assert.deepEqual(await index.postings("𠀀𠀁"), [[C, 5]]);
  assert.deepEqual(await index.postings("nothing"), []);
});

test("a prefix expands across consecutive shards, most frequent first, and stops", async () => {
  const { index, fetched } = indexOf();
  await index.open();
  const terms = await index.expand("clo");
  assert.deepEqual(terms, ["cloud", "clock", "clouds", "cloudy"]);
  assert.deepEqual(fetched, ["index.json", "s/0.json", "s/1.json", "s/2.json"]);
});

test("a prefix expands to at most 64 terms, the most frequent", async () => {
  const { index } = indexOf();
  await index.open();
  const terms = await index.expand("pa");
  assert.equal(terms.length, 64);
  const rare = many.filter((_, i) => i % 3 === 0); // one posting each: 24 terms
  assert.equal(terms.filter((t) => rare.includes(t)).length, 64 - 46);
});

test("score = idf * impact / scale of every form, plus half the exact form's", async () => {
  const { index } = indexOf();
  const { ids } = await index.search("cloud ");
  assert.deepEqual(ids, [A, B]); // same impact: the date breaks the tie, newer first
  await index.open();
  // "alpha" is in every article: no exact-form bonus (idf near zero, a long list)
  const common = await index.wordScores("alpha", false);
  const idf = Math.log(1 + (3 - 3 + 0.5) / (3 + 0.5));
  assert.ok(Math.abs(common.get(A) - idf) < 1e-12);
  // in 3 of 100 articles: every form (the stem word) plus half again for the exact form
  const data = files();
  data["index.json"].documents = 100;
  const { index: larger } = indexOf(data);
  await larger.open();
  const rare = await larger.wordScores("alpha", false);
  const rareIdf = Math.log(1 + (100 - 3 + 0.5) / (3 + 0.5));
  assert.ok(Math.abs(rare.get(A) - 1.5 * rareIdf) < 1e-12);
});

test("every word first, then most words; a finished word is not a prefix", async () => {
  const { index } = indexOf();
  const all = await index.search("alpha cloud ");
  assert.deepEqual(all.ids, [A, B, C]); // C has "alpha" only: after those with both
  assert.equal(all.partial, false);
  assert.deepEqual((await index.search("alpha clock")).ids, [C, A, B]);
  const some = await index.search("alpha missing");
  assert.deepEqual(some.ids, [A, B, C]);
  assert.deepEqual(some.missing, ["missing"]);
  assert.equal(some.partial, true);
  assert.deepEqual((await index.search("clou ", { exact: "1" })).ids, []);
});

test("the word being typed is one term over its completions", async () => {
  const { index } = indexOf();
  // "clouds" (df 1, impact 200) outranks "cloud" (df 2): C first despite its age
  assert.deepEqual((await index.search("clou")).ids, [C, A, B]);
  assert.deepEqual((await index.search("clou", { sort: "newest" })).ids, [A, B, C]);
});

test("filters: company postings, a year as an id range, browsing newest first", async () => {
  const { index, fetched } = indexOf();
  assert.deepEqual((await index.search("alpha", { company: "acme" })).ids.sort(), [A, B].sort());
  const { ids, years } = await index.search("alpha", { year: "2023" });
  assert.deepEqual(ids, [B]);
  assert.deepEqual([...years], [[2014, 1], [2023, 1], [2024, 1]]);
  assert.deepEqual((await index.search("", { company: "acme" })).ids, [A, B]);
  assert.deepEqual((await index.search("", { year: "2023" })).ids, [B]);
  assert.deepEqual((await index.search("")).ids, []);
  assert.ok(!fetched.includes("f/0.json"), "no facets file for filtering");
});

test("documents fetch only the chunks of the ids asked for", async () => {
  const { index, fetched } = indexOf();
  const docs = await index.documents([A]);
  assert.equal(docs[0][0], "Alpha cloud");
  assert.deepEqual(fetched, ["index.json", "d/a.json"]);
});

test("each file is fetched once; a failed fetch is retried next time", async () => {
  const { index, fetched } = indexOf(files(), new Set(["s/1.json"]));
  await assert.rejects(index.search("cloud "));
  assert.deepEqual((await index.search("cloud ")).ids, [A, B]);
  await index.search("cloud ");
  assert.equal(fetched.filter((p) => p === "s/1.json").length, 2);
  assert.equal(fetched.filter((p) => p === "index.json").length, 1);
});

test("edit distance counts a swap of neighbours as one edit", async () => {
  const { distance } = await import("../../templates/static/search-engine.js");
  assert.equal(distance("bluewtaer", "bluewater"), 1);
  assert.equal(distance("kitten", "sitting"), 3);
  assert.equal(distance("阿里", "阿里巴"), 1);
  assert.equal(distance("", "ab"), 2);
});

test("a word found nowhere is read as the nearest frequent word, unless exact", async () => {
  const { index } = indexOf();
  const fixed = await index.search("clokc ");
  // "clock" (1 edit) is in one article only, not frequent: "cloud" (2 edits, 2 articles)
  assert.deepEqual(fixed.corrections, [["clokc", "cloud"]]);
  const cloud = await index.search("cluod ");
  assert.deepEqual(cloud.corrections, [["cluod", "cloud"]]);
  assert.deepEqual(cloud.ids, [A, B]);
  const typed = await index.search("cluod ", { exact: "1" });
  assert.deepEqual([typed.ids, typed.corrections], [[], []]);
});
