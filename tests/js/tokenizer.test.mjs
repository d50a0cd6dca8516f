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

// The prefix rule asks whether the raw query ends in white space as Python's
// str.isspace() defines it, which differs from JavaScript's \s on four characters.
test("trailing white space follows Python's str.isspace()", () => {
  for (const space of ["\x1c", "\x1f", "\x85", "\u3000", " ", "\n"]) {
    assert.equal(parseQuery(`cain${space}`).prefix, null, JSON.stringify(space));
  }
  assert.equal(parseQuery("cain\ufeff").prefix, "cain"); // BOM: \s in JS, not in Python
});
