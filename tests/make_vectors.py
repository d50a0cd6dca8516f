"""Write tests/tokenizer_vectors.json from the Python tokenizer (`python -m tests.make_vectors`).

The vectors are then the contract for the JavaScript tokenizer; review the diff of the
JSON file whenever it changes: each entry is an input and the tokens the spec requires.
"""

from __future__ import annotations

import json

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
]


def vectors() -> list[dict[str, object]]:
    result: list[dict[str, object]] = []
    for text in INPUTS:
        query, prefix = parse_query(text)
        result.append({"text": text, "index": tokenize(text), "query": query,
                       "prefix": prefix})
    return result


if __name__ == "__main__":
    path = REPO / "tests" / "tokenizer_vectors.json"
    path.write_text(json.dumps(vectors(), ensure_ascii=False, indent=1) + "\n",
                    encoding="utf-8")
    print(f"wrote {len(INPUTS)} vectors to {path.relative_to(REPO)}")
