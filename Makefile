# The two commands a newcomer needs: `make run` (the local stack) and `make test` (the whole suite).
# Both create .venv and install what they need on first use, and again whenever a requirements file changes.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench bench-smoke policies package clean chromium

$(STAMP): requirements.txt requirements-dev.txt
	@echo "== installing dependencies into $(VENV)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: $(STAMP)
	$(PY) -m dev.stack

test: $(STAMP) chromium
	$(PY) -m pytest -n 2 --dist loadfile -q

# The browser tests (tests/browser) drive Debian's Chromium; installed once, as root or through sudo.
chromium:
	@if [ -x /usr/bin/chromium ]; then echo "== chromium: /usr/bin/chromium is installed"; else \
	  echo "== installing chromium, chromium-driver and a CJK font for the browser tests (apt-get)"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -q && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver fonts-wqy-microhei; \
	fi

bench: $(STAMP)
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

bench-smoke: $(STAMP)
	@for script in bench/bench_*.py; do echo "== $$script --smoke"; $(PY) $$script --smoke || exit 1; done

policies: $(STAMP)
	$(PY) -m infra.build policies

package: $(STAMP)
	$(PY) -m infra.build package --stage $(or $(STAGE),dev)

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis
