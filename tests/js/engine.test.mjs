// The query engine on the real index of the golden site, read from disk.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { SearchIndex, decode, yearOf } from "../../templates/static/search-engine.js";

const folder = new URL("../golden/expected/search/", import.meta.url);
const fetched = [];
const index = new SearchIndex(async (path) => {
  fetched.push(path);
  return JSON.parse(readFileSync(new URL(path, folder)));
});
const titles = async (ids) => (await index.documents(ids)).map((doc) => doc[0]);

test("postings are delta-encoded id, impact pairs", () => {
  assert.deepEqual(decode([5, 2, 3, 7]), [[5, 2], [8, 7]]);
});

test("a company name finds its articles, best first", async () => {
  const { ids } = await index.search("acme");
  assert.ok(ids.length >= 2);
  assert.ok((await titles(ids)).includes("Acme files for a listing: the details"));
});

test("a Chinese alias finds the same company", async () => {
  const { ids } = await index.search("艾克美");
  // the Chinese headline first (title and company); then Acme's other article, by alias
  assert.deepEqual(await titles(ids), ["艾克美发布财报", "Acme files for a listing: the details"]);
});

test("the word being typed matches as a prefix; a finished word does not", async () => {
  assert.ok((await index.search("listin")).ids.length >= 1);
  assert.equal((await index.search("listin ")).ids.length, 0);
});

test("a word finds its other forms through its stem, the exact form first", async () => {
  const listings = await index.search("listings ");
  assert.ok((await titles(listings.ids)).includes("Acme files for a listing: the details"));
});

test("articles with every word come first, then those with most", async () => {
  const both = await index.search("acme listing ");
  const one = await index.search("acme ");
  assert.equal(both.partial, false);
  assert.equal((await titles(both.ids))[0], "Acme files for a listing: the details");
  assert.equal(both.ids.length, new Set([...both.ids, ...one.ids]).size);
  const some = await index.search("acme zyxwvut ");
  assert.equal(some.partial, true);
  assert.deepEqual(some.missing, ["zyxwvut"]);
  assert.deepEqual(some.ids, one.ids);
});

test("filters narrow, and browse without a query", async () => {
  const all = await index.search("acme");
  const topic = await index.search("acme", { topic: "ipo" });
  assert.ok(topic.ids.length < all.ids.length);
  const browse = await index.search("", { company: "widget-co" });
  assert.deepEqual(await titles(browse.ids), ["Widget Co raises funds"]);
  const year = await index.search("", { year: "2024" });
  assert.equal(year.ids.length, 3);
  assert.ok(year.ids.every((id) => yearOf(id) === 2024));
});

test("newest first sorts by date", async () => {
  const { ids } = await index.search("acme", { sort: "newest" });
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
});

test("a query fetches only a few files", async () => {
  fetched.length = 0;
  const fresh = new SearchIndex(async (path) => {
    fetched.push(path);
    return JSON.parse(readFileSync(new URL(path, folder)));
  });
  const { ids } = await fresh.search("acme");
  await fresh.documents(ids.slice(0, 10));
  assert.ok(fetched.length <= 6, fetched.join(", "));
  assert.ok(!fetched.some((path) => path.startsWith("f/")), "facets only when filtering");
});

test("a Chinese alias and an English word in one query", async () => {
  const { ids, partial } = await index.search("艾克美 listing ");
  assert.equal(partial, false);
  assert.equal((await titles(ids))[0], "Acme files for a listing: the details");
});
