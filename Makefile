# The two commands of the README. Each sets up what it needs on a fresh machine with Python 3.11+.
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8080
VENV := .venv
SEKMET_VENV := .venv-sekmet
PY := $(VENV)/bin/python
# Every install is constrained to the pinned versions of requirements.lock (regenerate with `make lock`).
LOCK := requirements.lock

.PHONY: run test install install-test sekmet app chromium lint lock clean cards

# The CRS timeline SMART app: npm packages pinned in smart-app/package-lock.json, bundled into the package folder
# the service serves at /app/ (git-ignored). Rebuilt when missing or older than its sources; without npm the
# service still starts and says the app is not built. No browser is ever downloaded by Playwright.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
APP_BUNDLE := cds_service/web/static/BUILT
APP_SOURCES := $(wildcard smart-app/src/*) smart-app/build.mjs smart-app/node_modules/.installed

$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(LOCK) -e '.[docs]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml $(LOCK)
	$(PY) -m pip install --quiet -c $(LOCK) -e '.[test]'
	touch $@

# The real FHIR server for integration tests lives in its own virtualenv (it pins its own dependencies).
$(SEKMET_VENV)/.installed:
	$(PYTHON) -m venv $(SEKMET_VENV)
	$(SEKMET_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SEKMET_VENV)/bin/python -m pip install --quiet sekmet-fhir || echo "sekmet-fhir could not be installed: FHIR integration tests will skip"
	touch $@

smart-app/node_modules/.installed: smart-app/package.json smart-app/package-lock.json
	cd smart-app && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(APP_BUNDLE): $(APP_SOURCES)
	cd smart-app && npm run build --silent

app:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(APP_BUNDLE); \
	else echo "npm not found: the CRS timeline app (/app/) is not built; install Node.js 20 and npm" >&2; fi

# Debian chromium for the browser tests, when missing and running as root (they skip with the reason otherwise).
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium could not be installed: the browser tests will skip" >&2; fi

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test $(SEKMET_VENV)/.installed
sekmet: $(SEKMET_VENV)/.installed

## make run [PORT=8080] [HOST=127.0.0.1]: install, migrate the SQLite store and start the service
## (development mode, no JWT).
DEV_ENV := CRS_CDS_ENVIRONMENT=development CRS_CDS_AUTH_MODE=disabled CRS_CDS_LOG_FORMAT=text \
	CRS_CDS_PUBLIC_BASE_URL=http://$(HOST):$(PORT) \
	CRS_CDS_CORS_ORIGINS='["http://localhost:3000","https://sandbox.cds-hooks.org"]'
run: install app
	$(DEV_ENV) $(VENV)/bin/crs-cds db upgrade
	$(DEV_ENV) $(VENV)/bin/crs-cds serve --host $(HOST) --port $(PORT)

## make test: install what the tests need and run the whole suite.
test: install-test app chromium
	$(PY) -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure" >&2; exit 1; fi; \
	exit $$status

## make cards: redraw the card screenshots of docs/CARDS.md in Debian chromium (docs/images/cards/).
cards: install-test chromium
	CRS_CDS_WRITE_CARDS=1 $(PY) -m pytest -q tests/integration/test_card_gallery.py

## make lock: re-pin requirements.lock from pyproject.toml (needs the package index).
lock: install
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --extra otel --extra docs --universal \
		--python-version 3.11 --annotation-style line --no-header -o $(LOCK).new
	(sed -n '1,/^$$/p' $(LOCK) | grep '^#'; cat $(LOCK).new) > $(LOCK) && rm $(LOCK).new

## make lint: ruff over the code, tests and benchmarks, and mypy --strict over the service (.ci/run runs it too).
lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check cds_service tests bench
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) $(SEKMET_VENV) data .pytest_cache smart-app/node_modules cds_service/web/static
