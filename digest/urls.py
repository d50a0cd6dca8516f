"""The one place URLs are made. Pages are addressed by *site paths* ("topics/ipo/"),
relative to the site root; links are the base path plus the site path, so a site
published under https://example.github.io/repo/ links to /repo/topics/ipo/."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from urllib.parse import quote, urlsplit


@lru_cache(maxsize=1 << 16)
def quoted(site_path: str) -> str:
    """A site path as a link writes it. Pages link to the same few thousand paths over
    and over (the navigation, the stylesheet, topics, companies): each is quoted once
    per process, which took a twentieth of rendering an article page."""
    return quote(site_path.lstrip("/"), safe="/#?=&%")


@dataclass(frozen=True)
class Urls:
    base_url: str  # "/" or "https://host/sub/", always ending in "/"

    @cached_property
    def base_path(self) -> str:
        path = urlsplit(self.base_url).path if "://" in self.base_url else self.base_url
        return path if path.endswith("/") else path + "/"

    @property
    def origin(self) -> str:
        """"https://host" when base_url has one, else ""."""
        if "://" not in self.base_url:
            return ""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def path(self, site_path: str) -> str:
        """Root-relative link to a page: works at any depth and from the 404 page."""
        return self.base_path + quoted(site_path)

    def absolute(self, site_path: str) -> str:
        """Full URL when base_url has a host (feeds, canonical links); else the path."""
        if "://" not in self.base_url:
            return self.path(site_path)
        return self.base_url + quoted(site_path)


FILES_PREFIX = "files/"  # files kept beside articles are published under /files/


def output_file(site_path: str) -> str:
    """File that serves a site path: pretty URLs end in '/' and map to index.html."""
    return site_path + "index.html" if site_path == "" or site_path.endswith("/") else site_path


def paged_path(first_page: str, number: int) -> str:
    return first_page if number == 1 else f"{first_page}page/{number}/"


# Site paths of every kind of page. Nothing outside this module spells one out.
HOME = ""
TOPICS = "topics/"
COMPANIES = "companies/"
ARCHIVE = "archive/"
SEARCH = "search/"
EDITIONS = "editions/"
EMAIL_HTML, EMAIL_TEXT = "email.html", "email.txt"  # beside each edition's page
NOT_FOUND = "404.html"
SITEMAP = "sitemap.xml"
ROBOTS = "robots.txt"


def article_path(permalink: str, year: int, month: int, day: int, slug: str) -> str:
    """The article's site path from the `permalink` setting ("/{year}/{month}/{slug}/")."""
    return permalink.format(year=f"{year:04d}", month=f"{month:02d}", day=f"{day:02d}",
                            slug=slug).lstrip("/")


def company_path(slug: str) -> str:
    return f"{COMPANIES}{slug}/"


def topic_path(slug: str) -> str:
    return f"{TOPICS}{slug}/"


def topic_year_path(slug: str, year: int) -> str:
    return f"{topic_path(slug)}{year:04d}/"


def edition_path(key: str) -> str:
    return f"{EDITIONS}{key}/"


def archive_year_path(year: int) -> str:
    return f"{ARCHIVE}{year:04d}/"


def archive_month_path(year: int, month: int) -> str:
    return f"{archive_year_path(year)}{month:02d}/"


def feed_path(folder: str, file_name: str) -> str:
    """A feed file in the folder of the page it mirrors ("topics/ipo/" + "feed.xml")."""
    return folder + file_name


def sitemap_part_path(number: int) -> str:
    return f"sitemap-{number}.xml"


def static_path(name: str) -> str:
    return f"static/{name}"
