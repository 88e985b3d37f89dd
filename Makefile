# Thin wrappers: set-up is idempotent and quick when already done.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIPELINE := $(VENV)/bin/pipeline
APT_PACKAGES := tesseract-ocr tesseract-ocr-kor tesseract-ocr-kor-vert tesseract-ocr-rus \
	tesseract-ocr-script-hang tesseract-ocr-chi-tra fonts-nanum fonts-nanum-extra \
	chromium nodejs libmagic1 libvips-tools qpdf poppler-utils
DEMO_VOLUME := sample-001

.PHONY: setup system-deps viewer demo test test-fast bench lint golden clean

setup: system-deps $(VENV)/.installed

# npm is checked as a command: NodeSource's nodejs ships it and conflicts with Debian's npm.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,dask,search]'
	touch $@

# viewer: the closing hint runs `pipeline serve`, which needs Mirador from viewer/node_modules.
demo: setup viewer
	@test -d scans/$(DEMO_VOLUME) || $(PIPELINE) samples scans --volume-id $(DEMO_VOLUME) --pages 4
	$(PIPELINE) run
	@echo
	@echo "Collection: manifests/collection.json   Manifest: manifests/$(DEMO_VOLUME)/manifest.json"
	@echo "View it:    $(PIPELINE) serve   (then open http://127.0.0.1:8000/)"

# Mirador 4 and playwright-core from the npm registry (lock file committed, node_modules not);
# the browser is Debian's chromium, never a downloaded one.
VIEWER_STAMP := viewer/node_modules/.installed

viewer: system-deps $(VIEWER_STAMP)

$(VIEWER_STAMP): viewer/package.json viewer/package-lock.json
	cd viewer && npm ci --no-audit --no-fund
	touch $@

test: setup viewer
	PIPELINE_REQUIRE_TOOLS=1 $(PY) -m pytest -n auto --dist loadgroup

test-fast: setup
	$(PY) -m pytest -n auto --dist loadgroup -m "not slow"

bench: setup
	$(PY) -m tests.bench

lint: setup
	$(VENV)/bin/ruff check pipeline tests
	$(VENV)/bin/ruff format --check pipeline tests
	$(VENV)/bin/mypy

golden: setup
	$(PY) -m pytest tests/integration/test_golden.py --update-golden

clean:
	rm -rf manifests/*/ manifests/*.json manifests/.pipeline
