"""Editor verbs: `digest new` and `digest check` (issue 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import RunDigest


def test_new_writes_complete_front_matter_and_never_overwrites(digest: RunDigest,
                                                               example_site: Path) -> None:
    first = digest("new", "Alibaba Q3 results", "--company", "baba", "--company", "腾讯",
                   "--tag", "earnings", "--date", "2024-11-15 09:30", cwd=example_site)
    assert first.returncode == 0, first.stderr
    path = example_site / first.stdout.strip()
    assert path == example_site / "content/articles/2024/alibaba-q3-results.md"
    text = path.read_text(encoding="utf-8")
    assert 'companies: ["Alibaba", "Tencent"]' in text  # resolved through the registry
    assert "date: 2024-11-15 09:30" in text and "draft: true" in text
    assert digest("check", "-q", "--drafts", cwd=example_site).returncode == 0

    second = digest("new", "Alibaba Q3 results", "--date", "2024-11-15", cwd=example_site)
    assert second.returncode == 1
    assert "content/articles/2024/alibaba-q3-results.md: error:" in second.stderr
    assert path.read_text(encoding="utf-8") == text


def test_new_rejects_a_bad_date(digest: RunDigest, example_site: Path) -> None:
    result = digest("new", "X", "--date", "next tuesday", cwd=example_site)
    assert result.returncode == 2 and "cannot read 'next tuesday'" in result.stderr


BROKEN = """---
title: Cloud rivals
date: 2024-02-01
companies: [Alibaba Grup]
tags: [cloud]
---
Compare with [the price cuts](../2024/no-such-article.md) and
[the IPO plan](../2023/alibaba-cloud-ipo-plan.md).

![Revenue chart](images/revenue.png)

See also [topics](/topics/cloud/) and [nowhere](/topics/nowhere/).
"""


def test_check_reports_links_files_and_near_miss_names(digest: RunDigest,
                                                       example_site: Path) -> None:
    (example_site / "content/articles/2024/rivals.md").write_text(BROKEN, encoding="utf-8")
    plain = digest("check", cwd=example_site)
    assert plain.returncode == 0, plain.stderr
    lines = plain.stderr.splitlines()
    expected = [
        "content/articles/2024/rivals.md:4:13: warning: company 'Alibaba Grup' looks like "
        "the company 'Alibaba Group' (Alibaba)",
        "content/articles/2024/rivals.md:7:31: warning: broken link: "
        "'../2024/no-such-article.md' is not an article",
        "content/articles/2024/rivals.md:10:18: warning: missing file 'images/revenue.png' "
        "(looked for content/articles/2024/images/revenue.png)",
        "content/articles/2024/rivals.md:12:49: warning: link to '/topics/nowhere/' matches "
        "no page of the site",
    ]
    for line in expected:
        assert line in lines, plain.stderr
    assert "alibaba-cloud-ipo-plan.md' is not an article" not in plain.stderr
    strict = digest("check", "--strict", cwd=example_site)
    assert strict.returncode == 1
    github = digest("check", "--format", "github", cwd=example_site)
    assert "::warning file=content/articles/2024/rivals.md,line=10,col=18::missing file" \
        in github.stdout


def test_article_links_become_urls_and_files_are_published(digest: RunDigest,
                                                           example_site: Path) -> None:
    folder = example_site / "content/articles/2024"
    (folder / "images").mkdir()
    (folder / "images/revenue.png").write_bytes(b"\x89PNG fake")
    (folder / "linking.md").write_text(
        "---\ntitle: Linking\ndate: 2024-02-02\n---\n"
        "See [plan](../2023/alibaba-cloud-ipo-plan.md#x) ![c](images/revenue.png)\n",
        encoding="utf-8")
    assert digest("build", "-q", "--base-url", "https://e.org/repo/", cwd=example_site
                  ).returncode == 0
    page = (example_site / "site/2024/02/linking/index.html").read_text(encoding="utf-8")
    assert ('href="/repo/2023/05/alibaba-announces-exit-from-cloud-business-to-focus-on-'
            'core-operations/#x"') in page
    assert 'src="/repo/files/2024/images/revenue.png"' in page
    assert (example_site / "site/files/2024/images/revenue.png").read_bytes() == b"\x89PNG fake"
    assert digest("check", "--strict", cwd=example_site).returncode == 0


FIXTURES = Path(__file__).parent / "fixtures"
SEED = Path(__file__).resolve().parent / "fixtures" / "seed_000_3619a924b1370d17.txt"


def front(path: Path) -> dict[str, Any]:
    import yaml
    data = yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])
    assert isinstance(data, dict)
    return data


def test_import_of_the_seed_makes_a_clean_draft(digest: RunDigest, example_site: Path) -> None:
    result = digest("import", SEED, cwd=example_site)
    assert result.returncode == 0, result.stderr
    path = example_site / result.stdout.split(" (from")[0]
    text = path.read_text(encoding="utf-8")
    data = front(path)
    body = text.split("---\n", 2)[2]
    assert data["draft"] is True
    assert data["title"] == "Alibaba Announces Exit from Cloud Business to Focus on Core Operations"
    assert str(data["title"]) not in body, "the repeated headline is gone"
    assert "No votes yet" not in body and "Please wait" not in body
    assert {"Alibaba", "Tencent", "Baidu"} <= set(data["companies"])
    assert {"Cloud", "IPO"} <= set(data["tags"])
    assert body.count("\n\n") >= 6, "paragraphs are kept"
    again = digest("import", SEED, cwd=example_site)
    assert again.returncode == 1 and "not overwritten" in again.stderr
    assert path.read_text(encoding="utf-8") == text


def test_dry_run_writes_nothing(digest: RunDigest, example_site: Path) -> None:
    from tests.test_safety import snapshot
    before = snapshot(example_site)
    result = digest("import", "--dry-run", SEED, cwd=example_site)
    assert result.returncode == 0 and "would write content/articles/" in result.stdout
    assert snapshot(example_site) == before


def test_jekyll_and_hugo_posts_import_then_build(digest: RunDigest, example_site: Path) -> None:
    result = digest("import", FIXTURES / "jekyll", FIXTURES / "hugo", cwd=example_site)
    assert result.returncode == 1, "the unmappable fixtures are reported"
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 3, result.stderr
    assert any("2024-04-01-broken-yaml.md:2:" in e and "cannot read the front matter" in e
               for e in errors)
    assert any("undated-post.md:1:1: error: no date" in e for e in errors)
    assert any("broken-toml.md" in e and "cannot read the front matter" in e for e in errors)
    written = sorted((example_site / "content/articles").rglob("*.md"))
    imported = {p.name: front(p) for p in written if "imported from" in p.read_text()}
    assert len(imported) == 5, sorted(imported)
    split = imported["alibaba-splits-into-six-business-groups.md"]
    assert split["authors"] == ["Jane Doe"] and "restructuring" in split["tags"]
    assert str(split["date"]).startswith("2023-03-28")  # from the file name
    cainiao = imported["cainiao-ipo-withdrawn.md"]
    assert str(cainiao["date"]) == "2024-03-26 10:00"
    assert {"ipo", "logistics"} <= set(cainiao["tags"])
    hugo = imported["alibaba-plans-cloud-ipo.md"]
    assert hugo["aliases"] == ["/old/alibaba-cloud/"]
    assert str(hugo["date"]) == "2023-05-18 09:00"
    texts = "\n".join(p.read_text() for p in written if "imported from" in p.read_text())
    assert "{%" not in texts and "{{" not in texts, "Liquid and shortcodes are stripped"
    assert "not carried over: comments, layout" in texts
    assert "Cloud Intelligence Group" in texts and "Tencent and Baidu compete" in texts
    build = digest("build", "--drafts", cwd=example_site)
    assert build.returncode == 0, build.stderr
    assert (example_site / "site/old/alibaba-cloud/index.html").is_file()


def test_html_article_imports_through_a_real_parser(digest: RunDigest,
                                                    example_site: Path) -> None:
    result = digest("import", FIXTURES / "html", cwd=example_site)
    assert result.returncode == 0, result.stderr
    path = example_site / "content/articles/2022/tencent-revenue-falls-for-the-first-time.md"
    data = front(path)
    body = path.read_text(encoding="utf-8").split("---\n", 2)[2]
    assert data["title"] == "Tencent revenue falls for the first time"
    assert str(data["date"]) == "2022-08-17 18:00"
    assert data["source"] == {"name": "Example News", "url": "https://news.example/tencent-revenue"}
    assert "Tencent" in data["companies"] and "Cloud" in data["tags"]
    assert body.strip().splitlines() == [
        "Tencent reported its first year-on-year revenue decline on Wednesday.", "",
        "The company said gaming and advertising had weakened, while its cloud business & "
        "fintech held up."]
