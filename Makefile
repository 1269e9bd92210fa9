# The two commands a newcomer needs: `make run` (the local stack) and `make test` (the whole suite).
# Both create .venv and install what they need on first use, and again whenever a requirements file changes.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench bench-smoke package lock deploy clean chromium

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

package: $(STAMP)
	$(PY) -m infra.build package --stage $(or $(STAGE),dev)

# requirements.lock: the runtime dependencies resolved for Lambda's python3.12 on Linux x86_64, with their hashes.
lock: $(STAMP)
	$(PY) -m infra.build lock

# Prerequisites are checked before anything is built or changed; docs/deploy.md is the runbook.
deploy: $(STAMP)
	$(PY) -m infra.deploy --stage $(or $(STAGE),dev) \
	  $(if $(REGION),--region $(REGION)) $(if $(BUCKET),--bucket $(BUCKET)) $(if $(STACK),--stack-name $(STACK)) \
	  $(if $(DOMAIN),--domain $(DOMAIN)) $(if $(CERT),--certificate-arn $(CERT)) \
	  $(if $(ZONE),--hosted-zone-id $(ZONE)) $(if $(PUBLIC_BASE_URL),--public-base-url $(PUBLIC_BASE_URL)) \
	  $(if $(ALARM_EMAIL),--alarm-email $(ALARM_EMAIL)) $(if $(EGRESS),--egress $(EGRESS))

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis
