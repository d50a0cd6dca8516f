// The JavaScript tokenizer against the vectors the Python tests also read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { tokenize, parseQuery } from "../../templates/static/tokenizer.js";

const vectors = JSON.parse(readFileSync(new URL("../tokenizer_vectors.json", import.meta.url)));

test("there are vectors", () => assert.ok(vectors.length >= 50));

for (const vector of vectors) {
  test(`tokenize ${JSON.stringify(vector.text)}`, () => {
    assert.deepEqual(tokenize(vector.text), vector.index);
    const { tokens, prefix } = parseQuery(vector.text);
    assert.deepEqual(tokens, vector.query);
    assert.equal(prefix, vector.prefix);
  });
}
