// The browser's stemmer against the shared vectors made by Python's snowballstemmer
// (tests/make_vectors.py): every word must give the same stem.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { stem } from "../../templates/static/stemmer.js";

const vectors = readFileSync(new URL("../stemmer_vectors.txt", import.meta.url), "utf8")
  .trim().split("\n").map((line) => line.split(" "));

test("stems equal Snowball English (Python) on every shared vector", () => {
  assert.ok(vectors.length > 20000);
  const wrong = vectors.filter(([word, stemmed]) => stem(word) !== stemmed);
  assert.deepEqual(wrong.slice(0, 10).map(([w, s]) => [w, s, stem(w)]), []);
});

test("only a–z words are stemmed", () => {
  assert.equal(stem("plunged"), "plung");
  assert.equal(stem("阿里巴巴"), "阿里巴巴");
  assert.equal(stem("9988"), "9988");
  assert.equal(stem("zürich"), "zürich");
});
