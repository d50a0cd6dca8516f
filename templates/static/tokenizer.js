// The search tokenizer, JavaScript side. Spec: docs/SEARCH.md; the Python twin is
// digest/search/tokenizer.py; tests/tokenizer_vectors.json proves they agree.
const CJK = "\\u3040-\\u30FF\\u31F0-\\u31FF\\u3400-\\u4DBF\\u4E00-\\u9FFF\\uAC00-\\uD7AF" +
  "\\u1100-\\u11FF\\u3130-\\u318F\\uF900-\\uFAFF\\u{20000}-\\u{2FA1F}";
export const WORD = `(?:(?![${CJK}])[\\p{L}\\p{M}\\p{N}])`; // letters, marks, numbers; not CJK
const TOKEN = new RegExp(`[${CJK}]+|${WORD}+(?:(?<=\\p{Nd})[.,](?=\\p{Nd})${WORD}+)*`, "gu");
const POSSESSIVE = new RegExp(`['\\u2019]s(?!${WORD})`, "gu");
const CJK_CHAR = new RegExp(`^[${CJK}]`, "u");
// Python's str.isspace(), exactly: JavaScript's \s lacks \x1c-\x1f and \x85, adds \uFEFF.
const SPACE = /[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

const LATIN_MARKS = /(?<=[a-z])\p{M}+/gu; // diacritics of Latin letters: éclat → eclat
const ASCII = /^[\x00-\x7f]*$/;

export const normalize = (text) => {
  const folded = text.normalize("NFKC").toLowerCase().replaceAll("ß", "ss").replaceAll("ς", "σ");
  return ASCII.test(folded) ? folded
    : folded.normalize("NFKD").replace(LATIN_MARKS, "").normalize("NFC");
};

export const isCjk = (token) => CJK_CHAR.test(token);

export function tokenize(text, query = false) {
  const words = normalize(text).replace(POSSESSIVE, "").replaceAll("_", " ").match(TOKEN) || [];
  const tokens = [];
  for (const word of words) {
    const chars = Array.from(word); // code points: CJK extension B lies beyond U+FFFF
    if (chars.length === 1 || !isCjk(word)) { tokens.push(word); continue; }
    for (let i = 0; i < chars.length; i++) {
      if (!query) tokens.push(chars[i]);
      if (i + 1 < chars.length) tokens.push(chars[i] + chars[i + 1]);
    }
  }
  return tokens;
}

export function parseQuery(text) {
  const tokens = tokenize(text, true);
  const last = tokens.at(-1);
  const typing = text.length > 0 && !SPACE.test(text.at(-1));
  const prefix = typing && last && !isCjk(last) && Array.from(last).length >= 2 ? last : null;
  return { tokens, prefix };
}
