// Query engine over digest's search index (format and ranking: docs/SEARCH.md).
// Pure apart from `load(path)`, which fetches one index file as JSON.
import { parseQuery } from "./tokenizer.js";

const MAX_EXPANSIONS = 64;
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
        if (term.startsWith(prefix)) found.push([term, shard.postings[at].length >> 1]);
      });
    }
    found.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return found.slice(0, MAX_EXPANSIONS).map(([term]) => term);
  }

  idf(df) {
    const n = this.manifest.documents;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  // Score of each matching document for one query token (best expansion for a prefix).
  async tokenScores(token, isPrefix) {
    const terms = isPrefix ? [...new Set([token, ...await this.expand(token)])] : [token];
    const scale = this.manifest.weights.scale;
    const scores = new Map();
    for (const list of await Promise.all(terms.map((t) => this.postings(t)))) {
      const idf = this.idf(list.length);
      for (const [id, impact] of list) {
        const score = (idf * impact) / scale;
        if (score > (scores.get(id) ?? 0)) scores.set(id, score);
      }
    }
    return scores;
  }

  // {ids: ranked document ids, years: Map(year -> count)} for a query and filters.
  async search(text, { company = "", topic = "", year = "", sort = "relevance" } = {}) {
    const manifest = await this.open();
    const { tokens, prefix } = parseQuery(text);
    const sets = await Promise.all(tokens.map((token, i) =>
      this.tokenScores(token, prefix !== null && i === tokens.length - 1)));
    const filters = [];
    if (company) filters.push(this.postings(`#c:${company}`));
    if (topic) filters.push(this.postings(`#t:${topic}`));
    const allowed = (await Promise.all(filters)).map((list) => new Set(list.map(([id]) => id)));
    if (!sets.length && !allowed.length && !year) return { ids: [], years: new Map() };
    let candidates;
    if (sets.length) {
      sets.sort((a, b) => a.size - b.size);
      candidates = [...sets[0].keys()].filter((id) => sets.every((s) => s.has(id)));
    } else if (allowed.length) {
      candidates = [...allowed[0]];
    } else {
      candidates = (await this.postings(`#y:${year}`)).map(([id]) => id);
    }
    candidates = candidates.filter((id) => allowed.every((s) => s.has(id)));
    const years = new Map();
    for (const id of candidates) years.set(yearOf(id), (years.get(yearOf(id)) ?? 0) + 1);
    if (year) candidates = candidates.filter((id) => String(yearOf(id)) === String(year));
    const score = new Map(candidates.map((id) => {
      const base = sets.reduce((sum, s) => sum + s.get(id), 0);
      const age = manifest.newest_day - (id >> (manifest.day_bits ?? 10));
      return [id, base * (1 + 0.5 * 2 ** (-age / 365))];
    }));
    const ids = candidates.sort(sort === "newest" || !sets.length
      ? (a, b) => b - a
      : (a, b) => score.get(b) - score.get(a) || b - a);
    return { ids, years };
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

export function decode(encoded) {
  const pairs = [];
  let id = 0;
  for (let i = 0; i < encoded.length; i += 2) {
    id += encoded[i];
    pairs.push([id, encoded[i + 1]]);
  }
  return pairs;
}
