// Search box and page. Loaded on every page as a module: "/" focuses the search box;
// on /search/ it runs queries as you type. Every piece of index data is put in the page
// with textContent, never as markup, so no article text can inject HTML.
import { SearchIndex, yearOf } from "./search-engine.js";
import { parseQuery, isCjk, WORD } from "./tokenizer.js";

const root = new URL("../", import.meta.url); // the site root, also under /repo/
const PAGE = 10;
const FILTERS = ["company", "topic", "year", "sort"];
const $ = (id) => document.getElementById(id);

document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  if (target.closest?.("input, textarea, select, [contenteditable]")) return;
  const box = $("search-input") || $("site-search");
  if (box) { event.preventDefault(); box.focus(); box.select(); }
});

const page = $("search");
if (page) start();

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// What to mark in results: whole query words, the word being typed as the start of a
// word, CJK bigrams anywhere (they are parts of runs), longest first.
function marker({ tokens, prefix }) {
  const parts = [...new Set(tokens)].sort((a, b) => b.length - a.length).map((token) => {
    const escaped = token.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    if (isCjk(token)) return escaped;
    return `(?<!${WORD})${escaped}${token === prefix ? "" : `(?!${WORD})`}`;
  });
  return parts.length ? new RegExp(parts.join("|"), "giu") : null;
}

// Text with the query's words wrapped in <mark>, built node by node.
function highlighted(tag, text, pattern) {
  const node = element(tag);
  let at = 0;
  for (const match of pattern ? text.matchAll(pattern) : []) {
    if (!match[0]) continue;
    node.append(text.slice(at, match.index), element("mark", match[0]));
    at = match.index + match[0].length;
  }
  node.append(text.slice(at));
  return node;
}

function start() {
  const index = new SearchIndex(async (path) => {
    const response = await fetch(new URL(`search/${path}`, root));
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.json();
  });
  const input = $("search-input");
  const form = $("search-form");
  const status = $("search-status");
  const list = $("search-results");
  const panel = $("search-filters");
  const params = new URLSearchParams(location.search);
  const state = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) || ""]));
  state.exact = params.get("exact") || ""; // "1": the words as typed, no correction
  const correction = element("p", undefined, "search-correction");
  correction.hidden = true;
  status.after(correction);
  input.value = params.get("q") || "";
  const more = element("button", "More results", "search-more");
  more.type = "button";
  more.hidden = true;
  list.after(more);

  const toggle = element("button", "Filters", "search-toggle");
  toggle.type = "button";
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-controls", "search-filters");
  panel.before(toggle);
  let facetsShown = false;
  let years = null; // year -> count among the current matches; null: the global counts
  let global = {};
  let built = null;

  // Year options count the current matches when there are any, else every article.
  function countYears() {
    for (const option of $("search-year")?.options || []) {
      const n = years ? years.get(+option.value) ?? 0 : global[option.value];
      if (option.value) option.textContent = `${option.value} (${n})`;
    }
  }
  toggle.addEventListener("click", () => showFilters(!facetsShown));

  async function showFilters(open) {
    facetsShown = open;
    toggle.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
    if (!open) return;
    built ??= buildFilters().catch((error) => {
      built = null; // a second click tries again
      status.textContent = `Filters are unavailable: ${error.message}`;
    });
    await built;
  }

  async function buildFilters() {
    const facets = await index.facets(); // fetched only now that filters are wanted
    global = Object.fromEntries(facets.years);
    const choices = {
      company: facets.companies.map(([slug, name, n]) => [slug, `${name} (${n})`]),
      topic: facets.topics.map(([slug, name, n]) => [slug, `${name} (${n})`]),
      year: facets.years.map(([year, n]) => [String(year), `${year} (${n})`]),
      sort: [["relevance", "Best match"], ["newest", "Newest first"]],
    };
    const labels = { company: "Company", topic: "Topic", year: "Year", sort: "Order" };
    for (const name of FILTERS) {
      const label = element("label", labels[name]);
      const select = element("select");
      select.name = name;
      select.id = `search-${name}`;
      if (name !== "sort") select.append(new Option(`Any ${name}`, ""));
      for (const [value, text] of choices[name]) select.append(new Option(text, value));
      select.value = state[name] || (name === "sort" ? "relevance" : "");
      select.addEventListener("change", () => {
        state[name] = select.value === "relevance" ? "" : select.value;
        run();
      });
      label.append(select);
      panel.append(label);
    }
    countYears();
  }

  let generation = 0;
  let ranked = [];
  let shown = 0;
  let words = null;

  async function run() {
    const mine = ++generation;
    const q = input.value;
    const url = new URL(location.href);
    url.search = "";
    if (q) url.searchParams.set("q", q);
    for (const f of FILTERS) if (state[f]) url.searchParams.set(f, state[f]);
    if (state.exact) url.searchParams.set("exact", state.exact);
    history.replaceState(null, "", url);
    const query = parseQuery(q);
    words = marker(query);
    if (!query.tokens.length && !state.company && !state.topic && !state.year) {
      list.replaceChildren();
      more.hidden = true;
      status.textContent = "Type to search every article.";
      return;
    }
    try {
      const result = await index.search(q, state);
      if (mine !== generation) return; // a newer query has started
      ranked = result.ids;
      showCorrection(q, result.corrections);
      years = query.tokens.length || state.company || state.topic ? result.years : null;
      countYears();
      shown = 0;
      list.replaceChildren();
      const about = q ? ` for “${q.trim()}”` : "";
      const results = `${ranked.length} result${ranked.length === 1 ? "" : "s"}`;
      // Never a dead end: without an article that has every word, the closest ones
      // are shown, and the message says which words were left out.
      const left = result.missing.length
        ? `without ${result.missing.map((w) => `“${w}”`).join(", ")} (not found)`
        : "matching some of the words";
      status.textContent = !ranked.length
        ? `No results${about}. Try fewer words, or browse topics and companies.`
        : result.partial
          ? `No article has every word${about}; ${results} ${left}`
          : result.complete < ranked.length
            ? `${results}${about}, ${result.complete} with every word`
            : `${results}${about}`;
      await showMore(mine);
    } catch (error) {
      status.textContent = `Search is unavailable: ${error.message}`;
    }
  }

  // "Showing results for …", with a link that searches the words as typed.
  function showCorrection(q, corrections) {
    correction.replaceChildren();
    correction.hidden = !corrections.length;
    if (!corrections.length) return;
    let read = q.trim();
    for (const [typed, fixed] of corrections) {
      read = read.replace(new RegExp(typed.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "iu"),
        fixed);
    }
    const original = new URL(location.href);
    original.searchParams.set("q", q.trim());
    original.searchParams.set("exact", "1");
    const link = element("a", `“${q.trim()}”`);
    link.href = original.href;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      state.exact = "1";
      input.value = q.trim();
      run();
    });
    correction.append(`Showing results for “${read}”. Search instead for `, link, ".");
  }

  async function showMore(mine = generation) {
    const ids = ranked.slice(shown, shown + PAGE);
    shown += ids.length;
    // Only the chunks of results shown are fetched, all at once; each result appears, in
    // rank order, as soon as its own chunk (and those of the results above it) arrived.
    const pending = ids.map((id) => index.documents([id]));
    for (const [i, request] of pending.entries()) {
      const [doc] = await request;
      if (mine !== generation) return;
      list.append(result(ids[i], doc));
    }
    more.hidden = shown >= ranked.length;
  }

  function result(id, [title, url, date, summary, companies]) {
    const item = element("li", undefined, "search-result");
    item.id = `result-${id}`;
    const link = element("a");
    link.href = new URL(url, root).href;
    link.append(highlighted("h2", title, words));
    const meta = element("p", undefined, "meta");
    const time = element("time", date);
    time.dateTime = date;
    meta.append(time);
    for (const name of companies) meta.append(" ", element("span", name, "chip chip-company"));
    item.append(link, meta, highlighted("p", summary, words));
    return item;
  }

  let timer;
  input.addEventListener("input", () => {
    state.exact = ""; // a new query is corrected again
    clearTimeout(timer);
    timer = setTimeout(run, 80);
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); run(); });
  more.addEventListener("click", () => showMore());

  // Arrows move between the box and the results' links; Enter follows the focused link.
  form.closest("#search").addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    if (event.target !== input && !list.contains(event.target)) return; // selects keep arrows
    const links = [...list.querySelectorAll("a")];
    const at = links.indexOf(document.activeElement);
    const next = event.key === "ArrowDown" ? at + 1 : at - 1;
    if (at === -1 && event.key === "ArrowUp") return;
    event.preventDefault();
    (next < 0 ? input : links[Math.min(next, links.length - 1)])?.focus();
  });

  if (state.company || state.topic || state.year || state.sort) showFilters(true);
  run();
}

export { yearOf };
