"""Search in real headless Chromium, on the example site served under /repo/ (issue 3)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page

from tests.browser import serve
from tests.conftest import REPO, RunDigest

SEED = "Alibaba Announces Exit from Cloud Business to Focus on Core Operations"
SPLIT = "Alibaba to split into six business groups"
CAINIAO_FILES = "Cainiao files for Hong Kong IPO"
CAINIAO_WITHDRAWN = "Alibaba withdraws Cainiao IPO and offers to buy out minority holders"


def search(page: Page, site_url: str, query: str) -> list[str]:
    """Type the query as a person would and return the result titles."""
    page.goto(site_url + "search/")
    box = page.locator("#search-input")
    box.press_sequentially(query, delay=15)
    page.wait_for_function("/result/.test(document.getElementById('search-status')"
                           ".textContent)", timeout=5000)
    page.wait_for_timeout(200)  # the debounce of the last keystroke settles
    more = page.locator(".search-more")
    for _ in range(10):  # bounded: the example site has fewer than 100 articles
        if not more.is_visible():
            break
        count = page.locator("#search-results li").count()
        more.click()
        page.wait_for_function(f"document.querySelectorAll('#search-results li').length > {count}")
    return page.locator("#search-results h2").all_text_contents()


@pytest.fixture
def page(browser: Browser) -> Page:
    return browser.new_context().new_page()


@pytest.mark.parametrize("query, expected", [
    ("alibaba", {SEED, SPLIT, CAINIAO_WITHDRAWN}),
    ("Alibaba cloud", {SEED}),
    ("阿里巴巴", {SEED, SPLIT, CAINIAO_WITHDRAWN}),
    ("cain", {CAINIAO_FILES, CAINIAO_WITHDRAWN}),
])
def test_typed_queries_find_the_expected_articles(page: Page, site_url: str, query: str,
                                                  expected: set[str]) -> None:
    titles = search(page, site_url, query)
    assert expected <= set(titles), titles
    if query == "阿里巴巴":  # the Chinese alias finds exactly Alibaba's articles
        chips = page.locator("#search-results li").evaluate_all(
            "items => items.map(li => [...li.querySelectorAll('.chip')]"
            ".some(c => c.textContent === 'Alibaba'))")
        assert all(chips) and len(chips) >= 6
    if query == "cain":  # the word being typed is marked where a word starts with it
        marks = page.locator("#search-results mark").all_text_contents()
        assert marks and all(m.lower() == "cain" for m in marks), marks
        starts = page.locator("#search-results mark").evaluate_all(
            "marks => marks.map(m => /[\\p{L}\\p{N}]$/u.test("
            "m.previousSibling?.textContent || ''))")
        assert not any(starts)
    if query == "Alibaba cloud":  # articles with both words first, then the others
        status = page.locator("#search-status").text_content() or ""
        complete = int(status.split(", ")[-1].split(" with every word")[0])
        assert 0 < complete < len(titles) and SEED in titles[:complete], status


def test_company_filter_narrows_and_lives_in_the_url(page: Page, site_url: str) -> None:
    everything = search(page, site_url, "alibaba")
    page.get_by_role("button", name="Filters").click()
    page.locator("#search-company").select_option("cainiao")
    page.wait_for_function("document.querySelectorAll('#search-results li').length < "
                           f"{len(everything)}", timeout=5000)
    titles = page.locator("#search-results h2").all_text_contents()
    assert 0 < len(titles) < len(everything)
    assert {CAINIAO_WITHDRAWN} <= set(titles)
    chips = page.locator("#search-results li").evaluate_all(
        "items => items.map(li => [...li.querySelectorAll('.chip')].map(c => c.textContent))")
    assert all("Cainiao" in names for names in chips), chips
    assert "company=cainiao" in page.url and "q=alibaba" in page.url

    shared = page.context.new_page()  # a shared link restores the same search
    shared.goto(page.url)
    shared.wait_for_function("document.querySelectorAll('#search-results li').length > 0")
    assert shared.locator("#search-input").input_value() == "alibaba"
    assert shared.locator("#search-company").input_value() == "cainiao"
    assert shared.locator("#search-results h2").all_text_contents() == titles


def test_browsing_a_company_without_a_query(page: Page, site_url: str) -> None:
    page.goto(site_url + "search/?company=tencent")
    page.wait_for_function("document.querySelectorAll('#search-results li').length > 0")
    chips = page.locator("#search-results li").evaluate_all(
        "items => items.map(li => li.textContent.includes('Tencent'))")
    assert all(chips)


def test_keyboard_slash_arrows_and_enter(page: Page, site_url: str) -> None:
    page.goto(site_url)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "site-search"
    search(page, site_url, "cainiao")
    page.locator("h1").click()
    page.keyboard.press("/")  # on the search page, "/" goes to the page's own box
    assert page.evaluate("document.activeElement.id") == "search-input"
    page.get_by_role("button", name="Filters").click()
    page.locator("#search-sort").press("ArrowDown")  # arrows in a select stay there
    assert page.evaluate("document.activeElement.id") == "search-sort"
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(100)
    page.locator("#search-input").press("ArrowDown")
    first = page.locator("#search-results a").first
    assert page.evaluate("document.activeElement === document.querySelector("
                         "'#search-results a')")
    target = first.get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url(target or "", timeout=5000)
    assert page.url.startswith(site_url) and page.locator("article h1").count() == 1


def test_a_query_fetches_few_small_files_from_the_site_only(browser: Browser,
                                                            site_url: str) -> None:
    page = browser.new_context().new_page()
    page.goto(site_url + "search/")
    page.wait_for_load_state("networkidle")
    fetched: list[str] = []
    page.on("response", lambda response: fetched.append(response.url))
    page.locator("#search-input").press_sequentially("alibaba", delay=15)
    page.wait_for_function("document.querySelectorAll('#search-results li').length > 0")
    page.wait_for_load_state("networkidle")
    assert all(url.startswith(site_url) for url in fetched), fetched
    index_files = [u for u in fetched if "/search/" in u]
    assert 1 <= len(index_files) <= 6, index_files
    assert not any("/search/f/" in u for u in fetched), "facets load only for filters"


def test_without_javascript_the_page_says_so(browser: Browser, site_url: str) -> None:
    page = browser.new_context(java_script_enabled=False).new_page()
    page.goto(site_url + "search/")
    note = page.locator("#search p.note")  # inside <noscript>, which text locators skip
    assert note.is_visible()
    assert "Search runs in your browser and needs JavaScript" in (note.text_content() or "")
    page.get_by_role("link", name="companies A–Z").click()
    assert page.url == site_url + "companies/"


def test_article_text_cannot_inject_markup(browser: Browser, digest: RunDigest,
                                           tmp_path: Path) -> None:
    article = tmp_path / "content/articles/evil.md"
    article.parent.mkdir(parents=True)
    article.write_text('---\ntitle: "Evil <img src=x onerror=alert(1)> title"\n'
                       "date: 2024-01-01\nsummary: \"<b>bold</b> <script>alert(2)</script>\"\n"
                       "---\nBody.\n", encoding="utf-8")
    output = tmp_path / "served/repo"
    assert digest("build", "-q", "--root", tmp_path, "--output", output,
                  "--base-url", "https://example.github.io/repo/").returncode == 0
    with serve(tmp_path / "served") as url:
        page = browser.new_context().new_page()
        dialogs: list[str] = []
        def refuse(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", refuse)
        titles = search(page, url + "repo/", "evil")
        assert titles == ["Evil <img src=x onerror=alert(1)> title"]
        results = page.locator("#search-results")
        assert results.locator("img, b, script").count() == 0
        assert "<b>bold</b>" in (results.text_content() or "")
        assert not dialogs


def test_search_scripts_fit_in_ten_kilobytes() -> None:
    scripts = ["tokenizer.js", "stemmer.js", "search-engine.js", "search.js"]
    data = b"".join((REPO / "templates/static" / name).read_bytes() for name in scripts)
    assert len(gzip.compress(data, 9)) <= 10 * 1024


PDD_PLUNGE = "PDD shares plunge after revenue miss and profit warning"


def status_of(page: Page) -> str:
    return page.locator("#search-status").text_content() or ""


def test_other_forms_of_a_word_are_found_through_its_stem(page: Page, site_url: str) -> None:
    """"plunged" finds the headline that says "plunge" (Snowball stems, both sides)."""
    titles = search(page, site_url, "shares plunged ")
    assert titles and titles[0] == PDD_PLUNGE, titles
    assert "No article has every word" not in status_of(page)
    # the address carries the query: opened again, it shows the same results
    shared = page.context.new_page()
    shared.goto(page.url)
    shared.wait_for_function("/result/.test(document.getElementById('search-status')"
                             ".textContent)", timeout=5000)
    assert shared.locator("#search-results h2").first.text_content() == PDD_PLUNGE


def test_no_dead_end_when_no_article_has_every_word(page: Page, site_url: str) -> None:
    titles = search(page, site_url, "Cainiao IPO withdrawn ")
    assert CAINIAO_WITHDRAWN in titles and CAINIAO_FILES in titles, titles
    status = status_of(page)
    assert "No article has every word" in status and "without “withdrawn” (not found)" \
        in status, status
    assert "q=Cainiao+IPO+withdrawn" in page.url
    shared = page.context.new_page()
    shared.goto(page.url)
    shared.wait_for_function("/No article has every word/.test(document.getElementById("
                             "'search-status').textContent)", timeout=5000)


def test_a_misspelt_word_is_corrected_with_a_way_back(page: Page, site_url: str) -> None:
    titles = search(page, site_url, "cainao ipo ")
    assert titles[:2] and set(titles[:2]) == {CAINIAO_FILES, CAINIAO_WITHDRAWN}, titles
    correction = page.locator(".search-correction")
    assert correction.text_content() == ("Showing results for “cainiao ipo”. Search instead "
                                         "for “cainao ipo”.")
    # the corrected search is shareable as typed; the link searches the words as typed
    shared = page.context.new_page()
    shared.goto(page.url)
    shared.wait_for_function("document.querySelector('.search-correction')?.textContent"
                             ".startsWith('Showing results for')", timeout=5000)
    correction.locator("a").click()
    page.wait_for_function("/without “cainao”/.test(document.getElementById('search-status')"
                           ".textContent)", timeout=5000)
    assert "exact=1" in page.url and page.locator(".search-correction").is_hidden()
    exact = page.context.new_page()
    exact.goto(page.url)
    exact.wait_for_function("/without “cainao”/.test(document.getElementById("
                            "'search-status').textContent)", timeout=5000)
