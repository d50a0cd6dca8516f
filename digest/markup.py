"""Markdown → HTML as a pure function of the text.

quickmark.py renders the plain Markdown of most news; the rest goes to Python-Markdown
(pythonmarkdown.py), imported only then.
"""

from __future__ import annotations

from dataclasses import dataclass

from digest import quickmark


@dataclass(frozen=True)
class RenderedMarkdown:
    html: str
    text: str  # plain text of the whole body, for word counts and search
    first_paragraph: str  # plain text of the first <p>, the default summary

    def word_count(self) -> int:
        """Words of the body: `text` is squashed (quickmark.squash: single spaces, none
        at the ends), so counting its spaces is `len(text.split())` without making a
        list of every word (a twentieth of parsing an article)."""
        return self.text.count(" ") + 1 if self.text else 0


def html_to_text(html: str) -> tuple[str, str]:
    """(all text, first paragraph text) of an HTML fragment (htmltext.py)."""
    from digest.htmltext import html_to_text  # (html.parser: only when a body needs it)
    return html_to_text(html)


def html_blocks(html: str) -> list[str]:
    """The text of each block of an HTML fragment (htmltext.py)."""
    from digest.htmltext import html_blocks  # (html.parser: only when an email needs it)
    return html_blocks(html)


def render_markdown(text: str) -> RenderedMarkdown:
    quick = quickmark.render(text)  # the same bytes, for the plain Markdown of most news
    if quick is not None:
        return RenderedMarkdown(*quick)
    return render_with_python_markdown(text)


def render_with_python_markdown(text: str) -> RenderedMarkdown:
    # (imported here: most bodies never need it, and importing Python-Markdown was a
    # twentieth of an edit's build)
    from digest.pythonmarkdown import to_html
    html = to_html(text)
    plain, first = html_to_text(html)
    return RenderedMarkdown(html=html, text=plain, first_paragraph=first)
