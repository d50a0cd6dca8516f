"""digest's own search index: tokenizer, indexer and the files the browser fetches."""

from __future__ import annotations
