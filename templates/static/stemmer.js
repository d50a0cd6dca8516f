// Snowball English ("Porter2") stemmer: the rules of Python's `snowballstemmer` 2.2,
// which stems the index; tests/stemmer_vectors.txt proves they agree. Only a–z words
// are stemmed (docs/SEARCH.md).

const VOWEL = /[aeiouy]/;
const isVowel = (c) => VOWEL.test(c);
const LI_ENDING = "cdeghkmnrt";
const DOUBLES = ["bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr", "tt"];
const EXCEPTIONS = new Map([
  ["skis", "ski"], ["skies", "sky"], ["dying", "die"], ["lying", "lie"], ["tying", "tie"],
  ["idly", "idl"], ["gently", "gentl"], ["ugly", "ugli"], ["early", "earli"],
  ["only", "onli"], ["singly", "singl"], ["sky", "sky"], ["news", "news"],
  ["howe", "howe"], ["atlas", "atlas"], ["cosmos", "cosmos"], ["bias", "bias"],
  ["andes", "andes"],
]);
const AFTER_1A = new Set(["inning", "outing", "canning", "herring", "earring", "proceed",
  "exceed", "succeed"]);
// Longest suffix first; the step applies the longest suffix found, or nothing.
const STEP2 = [
  ["ization", "ize"], ["ational", "ate"], ["fulness", "ful"], ["ousness", "ous"],
  ["iveness", "ive"], ["tional", "tion"], ["biliti", "ble"], ["lessli", "less"],
  ["entli", "ent"], ["ation", "ate"], ["alism", "al"], ["aliti", "al"], ["ousli", "ous"],
  ["iviti", "ive"], ["fulli", "ful"], ["enci", "ence"], ["anci", "ance"], ["abli", "able"],
  ["izer", "ize"], ["ator", "ate"], ["alli", "al"], ["bli", "ble"], ["ogi", "og"],
  ["li", ""],
];
const STEP3 = [
  ["ational", "ate"], ["tional", "tion"], ["alize", "al"], ["icate", "ic"],
  ["iciti", "ic"], ["ative", ""], ["ical", "ic"], ["ness", ""], ["ful", ""],
];
const STEP4 = ["ement", "ance", "ence", "able", "ible", "ment", "ant", "ent", "ism", "ate",
  "iti", "ous", "ive", "ize", "ion", "al", "er", "ic"];

const suffixOf = (entry) => (typeof entry === "string" ? entry : entry[0]);
const byLength = (entries) => entries.sort((a, b) => suffixOf(b).length - suffixOf(a).length);
const longest = (word, entries) => entries.find((entry) => word.endsWith(suffixOf(entry)));
byLength(STEP2);
byLength(STEP3);
byLength(STEP4);

// The start of the region after the first non-vowel that follows a vowel, looking from
// `start` on (the word's length when there is none).
function regionAfter(word, start) {
  for (let i = start + 1; i < word.length; i++) {
    if (!isVowel(word[i]) && isVowel(word[i - 1])) return i + 1;
  }
  return word.length;
}

// R1 (after gener-, commun-, arsen- when the word starts so) and R2 (the same inside R1).
function regions(word) {
  const special = ["gener", "commun", "arsen"].find((p) => word.startsWith(p));
  const r1 = special ? special.length : regionAfter(word, 0);
  return [r1, regionAfter(word, r1)];
}

// A short syllable ends at `end`: non-vowel, vowel, non-vowel but w, x, Y; or a word
// starting vowel, non-vowel.
function endsShortSyllable(word, end) {
  const [a, b, c] = [word[end - 3], word[end - 2], word[end - 1]];
  if (end >= 3 && !isVowel(a) && isVowel(b) && !isVowel(c) && !"wxY".includes(c)) {
    return true;
  }
  return end === 2 && isVowel(b) && !isVowel(c);
}

export function stem(word) {
  if (!/^[a-z]+$/.test(word)) return word;
  if (EXCEPTIONS.has(word)) return EXCEPTIONS.get(word);
  if (word.length < 3) return word;
  // y at the start, or after a vowel, is a consonant: Y (a Y made is not a vowel)
  let w = word.replace(/^y/, "Y").replace(/([aeiouy])y/g, "$1Y");
  const [r1, r2] = regions(w);
  const inR1 = (length) => w.length - length >= r1;
  const inR2 = (length) => w.length - length >= r2;
  const replace = (length, by) => { w = w.slice(0, w.length - length) + by; };
  const hasVowelBefore = (end) => /[aeiouy]/.test(w.slice(0, end));

  // Step 1a
  if (w.endsWith("sses")) replace(4, "ss");
  else if (w.endsWith("ied") || w.endsWith("ies")) replace(3, w.length > 4 ? "i" : "ie");
  else if (w.endsWith("us") || w.endsWith("ss")) { /* unchanged */ }
  else if (w.endsWith("s") && hasVowelBefore(w.length - 2)) replace(1, "");
  if (AFTER_1A.has(w)) return w;

  // Step 1b
  const step1b = longest(w, ["eedly", "ingly", "edly", "eed", "ing", "ed"]);
  if (step1b === "eed" || step1b === "eedly") {
    if (inR1(step1b.length)) replace(step1b.length, "ee");
  } else if (step1b && hasVowelBefore(w.length - step1b.length)) {
    replace(step1b.length, "");
    if (w.endsWith("at") || w.endsWith("bl") || w.endsWith("iz")) w += "e";
    else if (DOUBLES.some((d) => w.endsWith(d))) replace(1, "");
    else if (w.length === r1 && endsShortSyllable(w, w.length)) w += "e";
  }

  // Step 1c
  if (/[yY]$/.test(w) && w.length > 2 && !isVowel(w[w.length - 2])) replace(1, "i");

  // Step 2
  const two = longest(w, STEP2);
  if (two && inR1(two[0].length)) {
    const before = w[w.length - two[0].length - 1];
    if (two[0] === "ogi") { if (before === "l") replace(3, "og"); }
    else if (two[0] === "li") { if (before && LI_ENDING.includes(before)) replace(2, ""); }
    else replace(two[0].length, two[1]);
  }

  // Step 3
  const three = longest(w, STEP3);
  if (three && inR1(three[0].length)) {
    if (three[0] === "ative") { if (inR2(5)) replace(5, ""); }
    else replace(three[0].length, three[1]);
  }

  // Step 4
  const four = longest(w, STEP4);
  if (four && inR2(four.length)) {
    if (four === "ion") {
      if ("st".includes(w[w.length - 4] ?? "x") && w.length >= 4) replace(3, "");
    } else {
      replace(four.length, "");
    }
  }

  // Step 5
  if (w.endsWith("e")) {
    if (inR2(1) || (inR1(1) && !endsShortSyllable(w, w.length - 1))) replace(1, "");
  } else if (w.endsWith("ll") && inR2(1)) {
    replace(1, "");
  }
  return w.replaceAll("Y", "y");
}
