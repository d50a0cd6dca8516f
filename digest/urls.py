"""The one place URLs are made. Pages are addressed by *site paths* ("topics/ipo/"),
relative to the site root; links are the base path plus the site path, so a site
published under https://example.github.io/repo/ links to /repo/topics/ipo/."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit


@dataclass(frozen=True)
class Urls:
    base_url: str  # "/" or "https://host/sub/", always ending in "/"

    @property
    def base_path(self) -> str:
        path = urlsplit(self.base_url).path if "://" in self.base_url else self.base_url
        return path if path.endswith("/") else path + "/"

    def path(self, site_path: str) -> str:
        """Root-relative link to a page: works at any depth and from the 404 page."""
        return self.base_path + quote(site_path.lstrip("/"), safe="/#?=&%")

    def absolute(self, site_path: str) -> str:
        """Full URL when base_url has a host (feeds, canonical links); else the path."""
        if "://" not in self.base_url:
            return self.path(site_path)
        return self.base_url + quote(site_path.lstrip("/"), safe="/#?=&%")


def output_file(site_path: str) -> str:
    """File that serves a site path: pretty URLs end in '/' and map to index.html."""
    return site_path + "index.html" if site_path == "" or site_path.endswith("/") else site_path


def paged_path(first_page: str, number: int) -> str:
    return first_page if number == 1 else f"{first_page}page/{number}/"
