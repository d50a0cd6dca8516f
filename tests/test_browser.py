"""The built theme in real headless Chromium: phone layout, contrast, keyboard, no JS."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.test_example_site import SEED_PAGE

PAGES = ["", SEED_PAGE, "search/", "companies/", "companies/alibaba/", "topics/", "topics/cloud/",
         "archive/", "archive/2023/", "editions/", "editions/2023-W20/", "no/such/page/"]

CONTRAST_SCRIPT = """
() => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05); };
  const bg = getComputedStyle(document.body).backgroundColor;
  const pick = sel => [...document.querySelectorAll(sel)].map(e => getComputedStyle(e).color);
  const colours = [...pick('main p, main li, main h1'), ...pick('main a'),
                   ...pick('.meta, .count, h4, figcaption, dt'), ...pick('.chip, .chips a')];
  const chipBg = [...document.querySelectorAll('.chip, .chips a')].map(
      e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]);
  return {bg, worst: Math.min(...colours.map(c => ratio(c, bg)),
                              ...chipBg.map(([c, b]) => ratio(c, b)))};
}
"""


def open_page(browser: Browser, url: str, **options: object) -> tuple[Page, list[str]]:
    context = browser.new_context(**options)  # type: ignore[arg-type]
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    return page, requests


@pytest.mark.parametrize("path", PAGES)
def test_phone_layout_has_no_sideways_scroll_and_no_offsite_request(
        browser: Browser, site_url: str, path: str) -> None:
    page, requests = open_page(browser, site_url + path,
                               viewport={"width": 390, "height": 844})
    assert page.locator("h1").count() == 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{path}: page is {width}px wide at a 390px viewport"
    assert requests and all(r.startswith(site_url) for r in requests), requests
    assert page.evaluate("getComputedStyle(document.body).fontFamily")
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", ["", SEED_PAGE, "companies/alibaba/", "editions/2023-W20/"])
def test_text_meets_aa_contrast(browser: Browser, site_url: str, scheme: str,
                                path: str) -> None:
    page, _ = open_page(browser, site_url + path, color_scheme=scheme)
    result = page.evaluate(CONTRAST_SCRIPT)
    assert result["worst"] >= 4.5, result
    dark_background = result["bg"] != "rgb(255, 255, 255)"
    assert dark_background == (scheme == "dark")
    page.context.close()


def test_skip_link_is_first_and_moves_focus_to_main(browser: Browser, site_url: str) -> None:
    page, _ = open_page(browser, site_url + SEED_PAGE)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    box = page.locator(".skip-link").bounding_box()
    assert box is not None and box["y"] >= 0, "the skip link shows when focused"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.context.close()


def test_site_works_without_javascript(browser: Browser, site_url: str) -> None:
    page, _ = open_page(browser, site_url, java_script_enabled=False)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Companies").click()
    page.get_by_role("link", name="Alibaba", exact=True).first.click()
    assert page.url == site_url + "companies/alibaba/"
    assert page.locator(".timeline-entry").count() >= 6
    page.locator(".timeline-article a").first.click()
    assert page.locator("article h1").count() == 1
    page.context.close()


# header and footer are landmarks only outside article, aside, main, nav and section
LANDMARKS_SCRIPT = """
() => [...document.querySelectorAll('header, nav, main, footer, aside, [role]')]
  .filter(e => !['HEADER', 'FOOTER'].includes(e.tagName) || e.getAttribute('role')
               || !e.parentElement.closest('article, aside, main, nav, section'))
  .map(e => [e.getAttribute('role') || e.tagName.toLowerCase(),
             e.getAttribute('aria-label') || ''])
  .filter(([role]) => ['search', 'nav', 'navigation', 'main', 'header', 'banner', 'footer',
                       'contentinfo', 'aside', 'complementary'].includes(role))
"""


@pytest.mark.parametrize("path", [p for p in PAGES if p != "no/such/page/"] + ["404.html"])
def test_landmarks_are_unique_and_the_header_fits_one_desktop_line(
        browser: Browser, site_url: str, path: str) -> None:
    """axe's landmark-unique: two landmarks of one role need different names (/search/
    had the header's search form beside its own)."""
    page, _ = open_page(browser, site_url + path, viewport={"width": 1280, "height": 800})
    landmarks = [tuple(pair) for pair in page.evaluate(LANDMARKS_SCRIPT)]
    assert len(landmarks) == len(set(landmarks)), landmarks
    searches = page.locator("[role=search]").count()
    assert searches == 1, f"{path}: {searches} search landmarks"
    if path != "search/":  # title, navigation and search box side by side
        tops = [page.locator(s).bounding_box() for s in (".site-title", ".site-nav",
                                                         ".site-search")]
        assert all(tops) and max(b["y"] for b in tops if b) - min(b["y"] for b in tops if b) \
            < 20, tops
    page.context.close()
