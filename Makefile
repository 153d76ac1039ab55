# Conv Lab: `make run` sets up and starts the app; `make test` sets up and runs every test.
PYTHON ?= python3.11
REQ_HASH := $(shell cat requirements.txt requirements-test.txt | sha256sum | cut -c1-12)
VENV ?= $(HOME)/.cache/conv-lab/venv-$(REQ_HASH)
PORT ?= 8501
HYPOTHESIS_PROFILE ?= ci

.PHONY: run hall hall-check test lint venv browser services haproxy clean-venv readme-media bench

$(VENV)/.done:  # the venv path carries a hash of the requirements, so no mtime prerequisites
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-test.txt
	$(VENV)/bin/python -c "import torch; assert '+cpu' in torch.__version__, torch.__version__"
	touch $@

venv: $(VENV)/.done

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; fi; }

# Debian's PostgreSQL (the class store's tests start their own server from its binaries) and HAProxy (the
# replica test), each installed only when missing.
services:
	@missing=""; ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	  command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing="$$missing haproxy"; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	    else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; fi

# HAProxy alone, for `make hall` (installed only when missing).
haproxy:
	@command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy; fi; }

run: venv
	MPLBACKEND=Agg $(VENV)/bin/streamlit run app.py --server.headless true --server.port $(PORT) \
	  --browser.gatherUsageStats false

# A lecture hall on one machine: one replica per core behind HAProxy on $(PORT) (scripts/replicas.py), the live
# class in the shared SQLite file. REPLICAS=3 for another count.
hall: venv haproxy
	MPLBACKEND=Agg $(VENV)/bin/python scripts/replicas.py --port $(PORT) $(if $(REPLICAS),--replicas $(REPLICAS))

# Before class: the lecture hall (150 students, issue 17) against a fresh server on this laptop as it is now, other
# programs included; prints the figures and MET or NOT met (then use `make hall`).
hall-check: venv
	MPLBACKEND=Agg $(VENV)/bin/python benchmarks/load.py --lecture-hall --sweep-moves player --quiet-below 0

test: venv browser services
	$(VENV)/bin/ruff check .
	MPLBACKEND=Agg CONVLAB_REQUIRE_BROWSER=1 CONVLAB_REQUIRE_POSTGRES=1 CONVLAB_REQUIRE_HAPROXY=1 HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) \
	  $(VENV)/bin/python -m pytest -q -p no:randomly $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

readme-media: venv browser
	MPLBACKEND=Agg $(VENV)/bin/python scripts/make_readme_media.py

bench: venv browser
	MPLBACKEND=Agg $(VENV)/bin/python benchmarks/run_all.py

clean-venv:
	rm -rf $(VENV)
