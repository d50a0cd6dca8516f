// Query engine over digest's search index (format and ranking: docs/SEARCH.md).
// Pure apart from `load(path)`, which fetches one index file as JSON.
import { stem } from "./stemmer.js";
import { isCjk, parseQuery } from "./tokenizer.js";

const MAX_EXPANSIONS = 64;
const STEMMABLE = /^[a-z]+$/; // as digest/search/stemmer.py
const STEM_MARK = "~";
const EXACT_WEIGHT = 0.5; // the exact form adds half of its score to its stem's
const PAIR_WEIGHT = 1; // query words side by side in a headline ("stem stem" terms)
const TITLE_MARK = "^"; // "key^": the headline has the word
const PLAIN_WORD = /^[\p{L}\p{N}]+$/u; // a word term: not a stem, pair, headline or facet
const MAX_TYPOS = 2; // edits (insert, delete, substitute, swap two neighbours)
const termKey = (token) => (STEMMABLE.test(token) ? stem(token) : token);
const DAY_MS = 86400000;
const DAY_ZERO = Date.UTC(1900, 0, 1);

export const yearOf = (id, dayBits = 10) =>
  new Date(DAY_ZERO + (id >> dayBits) * DAY_MS).getUTCFullYear();

export class SearchIndex {
  constructor(load) {
    this.load = load;
    this.files = new Map();
    this.manifest = null;
  }

  file(path) {
    if (!this.files.has(path)) {
      // a failed fetch is forgotten, so the next search retries it
      this.files.set(path, this.load(path).catch((error) => {
        this.files.delete(path);
        throw error;
      }));
    }
    return this.files.get(path);
  }

  async open() {
    this.manifest ??= await this.file("index.json");
    return this.manifest;
  }

  // Index of the shard holding `term`: the last whose first term is <= it (UTF-16 order).
  shardIndex(term) {
    const shards = this.manifest.shards;
    let low = 0, high = shards.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (shards[middle][0] <= term) low = middle; else high = middle - 1;
    }
    return low;
  }

  async shard(index) {
    const data = await this.file(this.manifest.shards[index][1]);
    data.lookup ??= new Map(data.terms.map((term, i) => [term, i]));
    return data;
  }

  // [[id, impact], ...] ascending by id, or [] for an unknown term.
  async postings(term) {
    const shard = await this.shard(this.shardIndex(term));
    const at = shard.lookup.get(term);
    return at === undefined ? [] : decode(shard.postings[at]);
  }

  // Indexed terms starting with `prefix`, most frequent first; may span several shards.
  async expand(prefix) {
    const found = [];
    const shards = this.manifest.shards;
    for (let i = this.shardIndex(prefix); i < shards.length; i++) {
      if (i > this.shardIndex(prefix) && !shards[i][0].startsWith(prefix)) break;
      const shard = await this.shard(i);
      shard.terms.forEach((term, at) => {
        if (term.startsWith(prefix) && PLAIN_WORD.test(term)) { // words, not stems or pairs
          found.push([term, shard.postings[at].length >> 1]);
        }
      });
    }
    found.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return found.slice(0, MAX_EXPANSIONS).map(([term]) => term);
  }

  // Nearest word in 2+ articles, ≤ MAX_TYPOS edits, in the word's shard ±1 (docs/SEARCH.md).
  async correct(word) {
    const shards = this.manifest.shards;
    const at = this.shardIndex(word);
    let best = null;
    for (let i = Math.max(0, at - 1); i <= Math.min(shards.length - 1, at + 1); i++) {
      const shard = await this.shard(i);
      shard.terms.forEach((term, k) => {
        if (term === word || !PLAIN_WORD.test(term)
          || Math.abs(term.length - word.length) > MAX_TYPOS) return;
        const df = shard.postings[k].length >> 1;
        if (df < 2) return;
        const edits = distance(word, term);
        if (edits <= MAX_TYPOS && (!best || edits < best.edits
          || (edits === best.edits && df > best.df))) best = { term, edits, df };
      });
    }
    return best?.term ?? null;
  }

  idf(df) {
    const n = this.manifest.documents;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  // Each matching document's score for one query word (docs/SEARCH.md, "Ranking").
  async wordScores(token, isPrefix) {
    const scale = this.manifest.weights.scale;
    const scores = new Map();
    const stemmed = STEMMABLE.test(token) ? stem(token) + STEM_MARK : null;
    if (isPrefix) {
      const terms = [...new Set([token, ...await this.expand(token)])];
      const lists = await Promise.all(terms.map((t) => this.postings(t)));
      // the stem adds forms not starting as typed, unless completions are common already
      const found = lists.reduce((sum, list) => sum + list.length, 0);
      if (stemmed && found * 4 < this.manifest.documents) lists.push(await this.postings(stemmed));
      const best = new Map();
      for (const list of lists) {
        for (const [id, impact] of list) {
          if (impact > (best.get(id) ?? 0)) best.set(id, impact);
        }
      }
      const idf = this.idf(best.size);
      for (const [id, impact] of best) scores.set(id, (idf * impact) / scale);
      return scores;
    }
    // every form: `stem~` and the word `stem`; then the exact form's bonus
    const base = stemmed ? stemmed.slice(0, -STEM_MARK.length) : token;
    const lists = await Promise.all([stemmed ? this.postings(stemmed) : [],
      this.postings(base)]);
    // no bonus for a word in over a quarter of the articles: idf ≈ 0, a long list
    const df = lists[0].length + lists[1].length;
    lists.push(stemmed && df * 4 < this.manifest.documents ? await this.postings(token) : []);
    lists.forEach((list, i) => {
      const weight = i < 2 ? 1 : EXACT_WEIGHT;
      const idf = this.idf(list.length);
      for (const [id, impact] of list) {
        scores.set(id, (scores.get(id) ?? 0) + (weight * idf * impact) / scale);
      }
    });
    return scores;
  }

  // {ids, years, missing: words found nowhere, partial: none has every word, complete:
  // how many have every word, corrections: [typed, read as]} (order: docs/SEARCH.md).
  async search(text, { company = "", topic = "", year = "", sort = "relevance",
    exact = "" } = {}) {
    await this.open();
    const { tokens, prefix } = parseQuery(text);
    const sets = await Promise.all(tokens.map((token, i) =>
      this.wordScores(token, prefix !== null && i === tokens.length - 1)));
    // a word found nowhere is corrected, unless `exact` (the words as typed)
    const corrections = [];
    for (let i = 0; i < tokens.length && !exact; i++) {
      if (sets[i].size || isCjk(tokens[i]) || Array.from(tokens[i]).length < 4) continue;
      const fixed = await this.correct(tokens[i]);
      if (fixed === null) continue;
      corrections.push([tokens[i], fixed]);
      tokens[i] = fixed;
      sets[i] = await this.wordScores(fixed, false);
    }
    const filters = [];
    if (company) filters.push(this.postings(`#c:${company}`));
    if (topic) filters.push(this.postings(`#t:${topic}`));
    const allowed = (await Promise.all(filters)).map((list) => new Set(list.map(([id]) => id)));
    const none = { ids: [], years: new Map(), missing: [], partial: false, complete: 0,
      corrections };
    if (!sets.length && !allowed.length && !year) return none;
    const matched = new Map();
    const score = new Map();
    let candidates;
    if (sets.length) {
      for (const set of sets) {
        for (const [id, value] of set) {
          matched.set(id, (matched.get(id) ?? 0) + 1);
          score.set(id, (score.get(id) ?? 0) + value);
        }
      }
      candidates = [...matched.keys()];
    } else if (allowed.length) {
      candidates = [...allowed[0]];
    } else {
      candidates = (await this.postings(`#y:${year}`)).map(([id]) => id);
    }
    candidates = candidates.filter((id) => allowed.every((s) => s.has(id)));
    // Adjacent query words that stand side by side in a headline: a bonus, never a match.
    const pairs = tokens.slice(1).map((token, i) => [tokens[i], token])
      .filter(([a, b]) => !isCjk(a) && !isCjk(b))
      .map(([a, b]) => `${termKey(a)} ${termKey(b)}`);
    const scale = this.manifest.weights.scale;
    for (const list of await Promise.all(pairs.map((pair) => this.postings(pair)))) {
      const idf = this.idf(list.length);
      for (const [id, impact] of list) {
        if (score.has(id)) score.set(id, score.get(id) + (PAIR_WEIGHT * idf * impact) / scale);
      }
    }
    const years = new Map();
    for (const id of candidates) years.set(yearOf(id), (years.get(yearOf(id)) ?? 0) + 1);
    if (year) candidates = candidates.filter((id) => String(yearOf(id)) === String(year));
    const best = Math.max(0, ...candidates.map((id) => matched.get(id) ?? 0));
    const missing = tokens.filter((token, i) => sets[i].size === 0);
    const partial = sets.length > 1 && best > 0 && best < sets.length;
    const count = (id) => matched.get(id) ?? 0;
    // Among articles matching as many words, those whose headline has more of them first.
    const inTitle = new Map();
    const titled = await Promise.all(tokens.map((t) => this.postings(termKey(t) + TITLE_MARK)));
    for (const list of titled) for (const [id] of list) inTitle.set(id, (inTitle.get(id) ?? 0) + 1);
    const heads = (id) => inTitle.get(id) ?? 0;
    const ids = candidates.sort(sort === "newest" || !sets.length
      ? (a, b) => count(b) - count(a) || b - a
      : (a, b) => count(b) - count(a) || heads(b) - heads(a) || score.get(b) - score.get(a)
        || b - a);
    const complete = sets.length ? ids.filter((id) => count(id) === sets.length).length
      : ids.length;
    return { ids, years, missing, partial, complete, corrections };
  }

  // Metadata of the given documents: [title, url, date, summary, companies, topics].
  async documents(ids) {
    const { chunk_shift: shift, chunks } = await this.open();
    const loaded = await Promise.all(ids.map((id) => this.file(chunks[id >> shift])));
    return ids.map((id, i) => loaded[i][id]);
  }

  async facets() {
    return this.file((await this.open()).facets);
  }
}

// Edits between two words (optimal string alignment: a swap of neighbours is one edit),
// in code points.
export function distance(a, b) {
  const x = Array.from(a), y = Array.from(b);
  const rows = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) {
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
      }
    }
  }
  return rows[x.length][y.length];
}

export function decode(encoded) {
  const pairs = [];
  let id = 0;
  for (let i = 0; i < encoded.length; i += 2) {
    id += encoded[i];
    pairs.push([id, encoded[i + 1]]);
  }
  return pairs;
}
