"""Hostile and careless input (issue 9): nothing is lost, nothing leaks, no traceback.

Each test drives the real CLI in a subprocess, as an editor, an attacker or a migrating
publisher would, and checks both the message and that nothing was written or deleted.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import xml.dom.minidom
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import feedparser
import pytest

from digest.output import exclusive
from tests.conftest import REPO, RunDigest
from tests.test_init_deploy import git
from tests.test_safety import snapshot

ARTICLE = "---\ntitle: {title}\ndate: 2023-05-03\n{extra}---\nBody text.\n"


def write_article(site: Path, name: str, title: str = "Plain", extra: str = "") -> Path:
    path = site / "content" / "articles" / name
    path.write_text(ARTICLE.format(title=title, extra=extra), encoding="utf-8")
    return path


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


# 1. The output folder ------------------------------------------------------------------

def test_output_folder_not_built_by_digest_is_refused(digest: RunDigest, example_site: Path,
                                                      tmp_path: Path) -> None:
    git(example_site, "init", "-q")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("an editor's file")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    (example_site / "site").symlink_to(elsewhere)
    before = snapshot(tmp_path)
    for output in (".git", str(other), "site"):
        result = digest("build", "--output", output, cwd=example_site)
        assert result.returncode == 2, (output, result.stderr)
        assert "refusing to build into" in result.stderr
        no_traceback(result)
    assert snapshot(tmp_path) == before, "nothing deleted or written"
    assert (example_site / ".git" / "HEAD").is_file()
    # an empty folder, or one digest built, is fine
    assert digest("build", "-q", "--output", tmp_path / "empty", cwd=example_site
                  ).returncode == 0
    assert digest("build", "-q", "--output", tmp_path / "empty", cwd=example_site
                  ).returncode == 0


def test_a_second_build_into_a_busy_folder_stops(digest: RunDigest, example_site: Path) -> None:
    assert digest("build", "-q", cwd=example_site).returncode == 0
    write_article(example_site, "new.md", "A new one")  # a change: no "nothing changed"
    before = snapshot(example_site / "site")
    with exclusive(example_site / "site"):  # another build holds the folder
        result = digest("build", cwd=example_site)
    assert result.returncode == 1
    assert "another digest build is writing this folder" in result.stderr
    assert snapshot(example_site / "site") == before
    assert digest("build", "-q", cwd=example_site).returncode == 0


# 2. Links out of the project, FIFOs, ignored files ---------------------------------------

def test_links_out_of_the_project_and_ignored_files_are_not_published(
        digest: RunDigest, example_site: Path) -> None:
    articles, static = example_site / "content/articles", example_site / "content/static"
    static.mkdir(exist_ok=True)
    (articles / "environ.txt").symlink_to("/proc/self/environ")
    (articles / "passwd.md").symlink_to("/etc/passwd")
    (static / "passwd").symlink_to("/etc/passwd")
    (articles / "_private.txt").write_text("not for the site")
    os.mkfifo(articles / "pipe.md")  # reading it would block the build forever
    (articles / "inside.txt").symlink_to(example_site / "pyproject.toml")  # inside: fine
    result = digest("build", cwd=example_site)
    assert result.returncode == 0, result.stderr
    published = {p.name for p in (example_site / "site").rglob("*")}
    assert not published & {"environ.txt", "passwd", "passwd.md", "_private.txt", "pipe.md"}
    assert "inside.txt" in published
    site_bytes = b"".join(p.read_bytes() for p in (example_site / "site").rglob("*")
                          if p.is_file())
    assert b"root:x:0:0" not in site_bytes and b"PATH=" not in site_bytes
    for name in ("environ.txt", "passwd.md", "static/passwd", "pipe.md"):
        assert f"{name}: warning: not" in result.stderr, name


# 3. YAML traps ---------------------------------------------------------------------------

def test_yaml_alias_bomb_and_duplicate_keys_are_diagnostics(digest: RunDigest,
                                                            example_site: Path) -> None:
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"{chr(98 + n)}: &{chr(98 + n)} [" + ", ".join([f"*{chr(97 + n)}"] * 9) + "]"
               for n in range(9)]
    write_article(example_site, "bomb.md", "Bomb", "\n".join(levels) + "\n")
    write_article(example_site, "twice.md", "Once", "title: Twice\n")
    posts = example_site / "posts"
    posts.mkdir()
    (posts / "2023-05-01-bomb.md").write_text(
        (example_site / "content/articles/bomb.md").read_text())
    imported = digest("import", posts, cwd=example_site)
    assert imported.returncode == 1
    assert "cannot read the front matter: anchors and aliases" in imported.stderr
    no_traceback(imported)
    result = digest("check", cwd=example_site)
    assert result.returncode == 1
    assert "bomb.md:4:4: error: anchors and aliases (&name, *name) are not allowed" \
        in result.stderr
    assert "twice.md:4:1: error: duplicate key 'title'" in result.stderr
    no_traceback(result)


# 5. and 7. Permalinks and aliases --------------------------------------------------------

@pytest.mark.parametrize("permalink", ["/../../../x/{slug}/../../PWNED.txt",
                                       "/javascript:alert(1)//{slug}/", "/{year.nope}/{slug}/"])
def test_unsafe_permalinks_are_refused(digest: RunDigest, example_site: Path, tmp_path: Path,
                                       permalink: str) -> None:
    settings = example_site / "pyproject.toml"
    assert "\n[tool.digest]\n" in settings.read_text()
    settings.write_text(settings.read_text().replace(
        "\n[tool.digest]\n", f"\n[tool.digest]\npermalink = {permalink!r}\n"))
    result = digest("build", cwd=example_site)
    assert result.returncode == 1 and "bad permalink" in result.stderr
    no_traceback(result)
    assert not (example_site / "site").exists()
    assert not list(tmp_path.rglob("PWNED*"))


def test_aliases_and_static_files_cannot_replace_generated_pages(digest: RunDigest,
                                                                 example_site: Path) -> None:
    write_article(example_site, "takeover.md", "Takeover",
                  'aliases: ["/feed.xml", "/topics/", "/index.html"]\n')
    static = example_site / "content/static"
    static.mkdir(exist_ok=True)
    (static / "index.html").write_text("<p>not the home page</p>")
    result = digest("build", cwd=example_site)
    assert result.returncode == 1
    for alias in ("/feed.xml", "/topics/", "/index.html"):
        assert f"error: alias '{alias}' would replace the page digest makes" in result.stderr
    assert "content/static/index.html: error: 'index.html' would replace a page" \
        in result.stderr
    no_traceback(result)
    write_article(example_site, "takeover.md", "Takeover", 'aliases: ["/a\\0b/"]\n')
    result = digest("build", cwd=example_site)
    assert "takeover.md:4:11: error: alias '/a\\x00b/' is not a path on this site" \
        in result.stderr
    no_traceback(result)


# 8. Tracebacks become diagnostics --------------------------------------------------------

def test_dates_out_of_range_are_diagnostics(digest: RunDigest, example_site: Path) -> None:
    write_article(example_site, "early.md").write_text(
        '---\ntitle: Early\ndate: "0001-01-01T00:00:00+14:00"\n---\nx\n')
    write_article(example_site, "late.md").write_text("---\ntitle: Late\ndate: 9999-12-31\n---\n")
    result = digest("build", "--future", cwd=example_site)
    assert result.returncode == 1
    assert "early.md:3:7: error: 'date' is out of range" in result.stderr
    assert "late.md:3:7: error: 'date' is out of range: '9999-12-31'" in result.stderr
    no_traceback(result)
    new = digest("new", "Far away", "--date", "9999-12-31T23:59:59-12:00", cwd=example_site)
    assert new.returncode == 2 and "--date" in new.stderr
    no_traceback(new)


def test_bad_settings_and_ports_are_diagnostics(digest: RunDigest, example_site: Path) -> None:
    (example_site / "pyproject.toml").write_text("tool = 5\n")
    result = digest("build", cwd=example_site)
    assert result.returncode == 1
    assert "pyproject.toml:1:1: error: 'tool.digest' must be a table" in result.stderr
    no_traceback(result)
    for port in ("99999", "-1", "http"):
        served = digest("serve", "--port", port, cwd=example_site)
        assert served.returncode == 2 and "is not a port" in served.stderr
        no_traceback(served)


def test_deploy_reports_a_failing_git_step(digest: RunDigest, example_site: Path) -> None:
    git(example_site, "init", "-q", "-b", "main")
    (example_site / ".gitignore").write_text("site/\n.digest-cache/\n")
    git(example_site, "add", "-A")
    git(example_site, "commit", "-qm", "content")
    (example_site / ".git/refs/heads/gh-pages.lock").write_text("")  # a stale git lock
    result = digest("deploy", "--no-push", cwd=example_site)
    assert result.returncode == 1
    assert "committing the site to gh-pages failed" in result.stderr
    no_traceback(result)
    (example_site / ".git/refs/heads/gh-pages.lock").unlink()
    write_article(example_site, "draft-change.md", "Uncommitted")
    result = digest("deploy", "--no-push", cwd=example_site)
    assert result.returncode == 0, result.stderr
    assert "with uncommitted changes" in git(example_site, "log", "-1", "--format=%s",
                                             "gh-pages")


# 9. Feeds --------------------------------------------------------------------------------

def test_feeds_show_summaries_as_text_and_survive_control_characters(
        digest: RunDigest, example_site: Path) -> None:
    write_article(example_site, "hostile.md", '"Control \\x01 and \\x0b title"',
                  'summary: "a <script>alert(1)</script> & b"\n')
    assert digest("build", "-q", cwd=example_site).returncode == 0
    site = example_site / "site"
    for name in ("feed.xml", "rss.xml"):
        xml.dom.minidom.parse(str(site / name))  # well-formed: no control characters
        feed = feedparser.parse(site / name)
        assert not feed.bozo, name
        entry = next(e for e in feed.entries if e.title.startswith("Control"))
        assert entry.title == "Control  and  title"
        detail = entry.summary_detail
        # shown as the text the editor wrote, never as markup a reader would run
        shown = detail.value if detail.type == "text/plain" else \
            detail.value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        assert shown == "a <script>alert(1)</script> & b", (name, detail)


# 10. Long headlines -----------------------------------------------------------------------

def test_a_forty_word_headline_builds_and_new_leaves_nothing_behind(
        digest: RunDigest, example_site: Path) -> None:
    title = " ".join(["Extraordinarily"] * 40)
    write_article(example_site, "long.md", title)
    assert digest("build", "-q", cwd=example_site).returncode == 0
    page = next((example_site / "site/2023/05").glob("extraordinarily-*"))
    assert len(page.name) <= 200
    made = digest("new", title, "--date", "2031-01-01", cwd=example_site)
    assert made.returncode == 0, made.stderr
    assert (example_site / made.stdout.strip()).is_file()


# 11. serve --------------------------------------------------------------------------------

@contextmanager
def serving(site: Path, scratch: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str],
                                                                     str]]:
    process = subprocess.Popen([sys.executable, "-m", "digest", "serve", *args], cwd=site,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO),
                                    "TMPDIR": str(scratch)})
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("serving "), process.stderr.read() if process.stderr else ""
        yield process, line.split()[1]
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def request(address: str, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    host, port = address.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest(method, path, skip_accept_encoding=True)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), body


def test_serve_refuses_hostile_paths_answers_head_and_cleans_up(example_site: Path,
                                                                tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    with serving(example_site, scratch, "--port", "0") as (process, address):
        assert request(address, "GET", "/%00")[0] == 403
        assert request(address, "GET", "/" + "a" * 300 + "/")[0] == 404
        status, headers, body = request(address, "GET", "/")
        head_status, head_headers, head_body = request(address, "HEAD", "/")
        assert status == head_status == 200 and head_body == b""
        assert head_headers["Content-Length"] == headers["Content-Length"] == str(len(body))
        assert process.poll() is None, "the server is still up"
        assert len(list(scratch.iterdir())) == 1
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert list(scratch.iterdir()) == [], "SIGTERM removes the temporary site"


def test_serve_on_a_port_in_use_says_so(example_site: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "digest", "serve", "--port", str(port)],
                                cwd=example_site, capture_output=True, text=True, timeout=60,
                                env={**os.environ, "PYTHONPATH": str(REPO),
                                     "TMPDIR": str(scratch)})
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "cannot write the site" not in result.stderr
    assert list(scratch.iterdir()) == []


def test_serve_keeps_serving_after_a_bad_save(example_site: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    with serving(example_site, scratch, "--port", "0") as (process, address):
        write_article(example_site, "bad.md", "Bad", 'aliases: ["/a\\0b/"]\n')
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            if request(address, "GET", "/")[0] == 200 and time.monotonic() > deadline - 27:
                break
            time.sleep(0.2)
        assert process.poll() is None, "a bad save does not end serve"
        assert request(address, "GET", "/")[0] == 200


# 12. Smaller ones -------------------------------------------------------------------------

def test_smaller_input_problems_are_diagnostics(digest: RunDigest, example_site: Path) -> None:
    articles = example_site / "content/articles"
    write_article(example_site, "huge.md", "1.0e+400")
    (articles / "latin.md").write_bytes(
        "---\ntitle: Café\ndate: 2023-05-03\n---\nDéjà vu.\n".encode("latin-1"))
    (articles / "wide.md").write_bytes(ARTICLE.format(title="Wide", extra="")
                                       .encode("utf-16"))
    tags = ", ".join(f"tag{n}" for n in range(60))
    write_article(example_site, "tags.md", "Many tags", f"tags: [{tags}]\n")
    (example_site / "content/companies/a#b?c.md").write_text("---\nname: ABC\n---\n")
    result = digest("check", cwd=example_site)
    assert result.returncode == 1
    stderr = result.stderr
    assert "huge.md:2:8: error: 'title' is read as the number inf" in stderr
    assert "latin.md:2:11: error: file is not valid UTF-8 (byte 0xe9)" in stderr
    assert "wide.md:1:1: error: file is UTF-16, not UTF-8" in stderr
    assert "tags.md:4:1: error: 60 tags on one article (at most 50)" in stderr
    assert "a#b?c.md:1:1: error: the file name 'a#b?c' cannot be part of a URL" in stderr
    assert "rename the file to a-b-c.md" in stderr
    no_traceback(result)


def test_github_annotations_cannot_be_spoofed_by_file_names(digest: RunDigest,
                                                            example_site: Path) -> None:
    write_article(example_site, "x,line=99,title=Fake.md", "Bad", "nope: 1\n")
    result = digest("check", "--format", "github", cwd=example_site)
    annotation = next(line for line in result.stdout.splitlines() if "Fake" in line)
    assert "x%2Cline=99%2Ctitle=Fake.md,line=4" in annotation, annotation


def test_new_with_a_hostile_company_name_writes_a_file_that_builds(digest: RunDigest,
                                                                  example_site: Path) -> None:
    made = digest("new", "Odd", "--company", "X}\ntitle: y", "--date", "2023-05-04",
                  cwd=example_site)
    assert made.returncode == 0, made.stderr
    result = digest("check", cwd=example_site)
    assert result.returncode == 0, result.stderr


def test_init_in_an_existing_site_adds_no_sample_article(digest: RunDigest,
                                                         example_site: Path) -> None:
    before = {p for p in (example_site / "content").rglob("*")}
    result = digest("init", example_site)
    assert result.returncode == 0, result.stderr
    assert {p for p in (example_site / "content").rglob("*")} == before


# 13. Import keeps what it is given ---------------------------------------------------------

def test_import_keeps_moments_posts_and_old_addresses(digest: RunDigest, tmp_path: Path) -> None:
    posts = tmp_path / "_posts"
    posts.mkdir()
    (posts / "2023-05-01-release.md").write_text(
        "---\ntitle: Same title\ndate: 2023-05-01T10:00:00Z\ncategories: [blog, release]\n"
        "---\nSee [the other]({% post_url 2023-05-02-other %}).\n")
    (posts / "2023-05-02-other.md").write_text(
        "---\ntitle: Same title\ndate: 2023-05-02 10:00:00 +0200\n"
        "permalink: /blog/release/v4.2.0/\n---\nOther.\n")
    site = tmp_path / "site-project"
    (site / "content/articles").mkdir(parents=True)
    (site / "pyproject.toml").write_text('[tool.digest]\ntimezone = "Asia/Shanghai"\n')
    result = digest("import", posts, cwd=site)
    assert result.returncode == 0, result.stderr
    first = (site / "content/articles/2023/same-title.md").read_text()
    second = (site / "content/articles/2023/same-title-2.md").read_text()
    assert "date: 2023-05-01 18:00" in first, "10:00 UTC is 18:00 in Shanghai"
    assert "date: 2023-05-02 16:00" in second
    assert 'aliases: ["/blog/release/2023/05/01/release.html"]' in first
    assert 'aliases: ["/blog/release/v4.2.0/"]' in second and 'slug: "same-title-2"' in second
    assert "[the other](same-title-2.md)" in first
    for path in (site / "content/articles/2023").iterdir():
        path.write_text(path.read_text().replace("\ndraft: true\n", "\n"))
    assert digest("build", "-q", cwd=site).returncode == 0
    built = site / "site"
    assert (built / "blog/release/v4.2.0/index.html").is_file()
    assert (built / "blog/release/2023/05/01/release.html").is_file()
    assert 'href="/2023/05/same-title-2/"' in (built / "2023/05/same-title/index.html"
                                                ).read_text()
