"""`digest init`: a new site that builds at once and publishes itself to GitHub Pages.

Never overwrites: every file is created exclusively, and one that exists is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from digest import __version__

PYPROJECT = f'''[project]
name = "{{name}}"
version = "0.1.0"
requires-python = ">=3.11"
# Where digest comes from: pin it, or point at its repository (digest @ git+https://…).
dependencies = ["digest>={__version__}"]

[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[tool.setuptools]
packages = []  # a site, not a Python package

[tool.digest]
title = "{{title}}"
description = "Business news, dated and sourced."
# The GitHub Pages workflow passes the real address with --base-url.
base_url = "/"
timezone = "UTC"
# The digest's editions at /editions/: "weekly", "daily", "monthly" or "" for none.
# An editor's note for a week goes in content/editions/<key>.md, e.g. 2026-W14.md.
editions = "weekly"
'''

ARTICLE = '''---
title: "Welcome to {title}"
date: {today}
summary: "The first article of a new digest."
source:
  name: "{title}"
tags: [announcements]
companies: [Example Co]
events:
  - date: {today}
    company: Example Co
    type: other
    title: "Starts a digest"
---
Write articles as Markdown files under `content/articles/`, with the front matter above.
Run `digest build` to make the site in `site/`, and push to publish it.
'''

COMPANY = '''---
name: Example Co
aliases: [Example Company, EXCO]
sector: Examples
---
A company profile in Markdown. Articles that name the company or an alias are listed on
its page, in a timeline.
'''

GITIGNORE = "site/\n.site.*\n.digest-cache/\n__pycache__/\n"

# GitHub's official Pages actions. The schedule rebuilds hourly so that articles dated
# in the future go live by themselves, and a week's edition joins its feed when it ends.
WORKFLOW = '''name: Publish to GitHub Pages

on:
  push:
    branches: [main]
  schedule:
    - cron: "17 * * * *"
  workflow_dispatch:

permissions:
  contents: read
  pages: write
  id-token: write

concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - name: Check out
        uses: actions/checkout@v4
      - name: Set up Python
        uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install
        run: pip install .
      - name: Configure Pages
        id: pages
        uses: actions/configure-pages@v5
      # The last run's build state and site: digest then renders only what changed.
      # (The twin copy of the site is rebuilt on the runner, not stored.)
      - name: Restore the build state
        uses: actions/cache@v4
        with:
          path: |
            .digest-cache
            site
            !.digest-cache/build/*/twin
            !.digest-cache/build/*/twin-dirty
          key: digest-${{ github.run_id }}-${{ github.run_attempt }}
          restore-keys: digest-
      - name: Build
        run: digest build --base-url "${{ steps.pages.outputs.base_url }}/"
      - name: Upload
        uses: actions/upload-pages-artifact@v3
        with:
          path: site
  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps:
      - name: Deploy
        id: deployment
        uses: actions/deploy-pages@v4
'''


@dataclass(frozen=True)
class Scaffolded:
    path: Path
    created: bool  # False: it existed and was left as it was


def scaffold(folder: Path, today: date) -> list[Scaffolded]:
    name = folder.resolve().name or "digest-site"
    title = name.replace("-", " ").replace("_", " ").title()
    files = {"pyproject.toml": PYPROJECT.format(name=name, title=title)}
    # The samples only start an empty site: in one that has content they would be
    # published beside the editors' articles.
    if not (folder / "content").exists():
        files[f"content/articles/{today:%Y}/welcome.md"] = ARTICLE.format(title=title,
                                                                         today=today)
        files["content/companies/example-co.md"] = COMPANY
    files[".gitignore"] = GITIGNORE
    files[".github/workflows/pages.yml"] = WORKFLOW
    results = []
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x", encoding="utf-8") as handle:
                handle.write(text)
            results.append(Scaffolded(path, True))
        except FileExistsError:
            results.append(Scaffolded(path, False))
    return results
