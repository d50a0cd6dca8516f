"""Write the shared search vectors (`python -m tests.make_vectors`):

- tests/tokenizer_vectors.json from the Python tokenizer: the contract for the
  JavaScript tokenizer; each entry is an input and the tokens the spec requires;
- tests/stemmer_vectors.txt ("word stem" per line) from `snowballstemmer`: the contract
  for templates/static/stemmer.js, over every a–z word of the example site and every
  tenth word of Webster's Second International word list (public domain; read from the
  `english-words` package, needed only to regenerate: `pip install english-words`).

Review the diff of either file whenever it changes.
"""

from __future__ import annotations

import json
import re

from digest.search.tokenizer import parse_query, tokenize
from tests.conftest import REPO

INPUTS = [
    "Alibaba cloud", "Alibaba’s cloud unit", "ALIBABA Cloud IPO", "alibaba's", "it's rock’s",
    "$3.75 billion", "1,000 staff in 2023", "2023-05-18", "3.", "v2.0.1 release", "e.g. A.I.",
    "阿里巴巴", "阿里巴巴集团", "阿", "菜鸟 Cainiao", "Alibaba阿里巴巴Cloud", "百度文心一言",
    "カタカナとひらがな", "한국어 텍스트", "ｱﾘﾊﾞﾊﾞ", "Ａｌｉｂａｂａ　ｃｌｏｕｄ", "ﬁnance ﬂow",
    "Straße", "ΣΟΦΟΣ σοφός", "İstanbul", "café naïve résumé", "cafe\u0301", "snake_case_name",
    "e-commerce", "C++ and C#", "Pinduoduo/Temu", "U.S.-China", "x²", "Ⅻ century", "①②",
    "‘quoted’ “double”", "tab\tand\nnewline", "   ", "", "cain", "cain ", "c", "阿里 ",
    "Alibaba ali", "BABA 9988.HK", "Eddie Wu (吴泳铭)", "Tencent’s 腾讯", "naïve’s",
    "don't", "rock 'n' roll", "AT&T", "O'Neil", "l’économie", "١٢٣ arabic digits",
    "हिन्दी पाठ", "ไทย", "emoji 🚀 launch", "Zürich ZÜRICH", "ǅ title", "ﬀ",
    "Çelik Holding", "São Paulo Agro", "Société Éclat Données", "Łódź Logistyka", "Ōkami",
    "Việt Nam ệ", "x\u0301\u0323y", "ά έ Ελλάδα", "Ørsted Ærø", "İİ", "Dvořák", "ﬃ café",
]


def vectors() -> list[dict[str, object]]:
    result: list[dict[str, object]] = []
    for text in INPUTS:
        query, prefix = parse_query(text)
        result.append({"text": text, "index": tokenize(text), "query": query,
                       "prefix": prefix})
    return result


def stemmer_vectors() -> list[tuple[str, str]]:
    from english_words import get_english_words_set

    from digest.search.stemmer import stem
    from digest.search.tokenizer import tokenize

    words = {token for path in sorted((REPO / "content").rglob("*.md"))
             for token in tokenize(path.read_text(encoding="utf-8"))
             if re.fullmatch("[a-z]+", token)}
    listed = sorted(w for w in get_english_words_set(["web2"], lower=True)
                    if re.fullmatch("[a-z]+", w))
    words.update(listed[::10])
    return [(word, stem(word)) for word in sorted(words)]


if __name__ == "__main__":
    pairs = stemmer_vectors()
    (REPO / "tests" / "stemmer_vectors.txt").write_text(
        "".join(f"{word} {stemmed}\n" for word, stemmed in pairs), encoding="utf-8")
    print(f"wrote {len(pairs)} stems to tests/stemmer_vectors.txt")
    path = REPO / "tests" / "tokenizer_vectors.json"
    path.write_text(json.dumps(vectors(), ensure_ascii=False, indent=1) + "\n",
                    encoding="utf-8")
    print(f"wrote {len(INPUTS)} vectors to {path.relative_to(REPO)}")
