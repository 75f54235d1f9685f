# RecomAMP: `make run` starts everything, `make test` runs the whole suite. Python 3.11 and Node.js 20 (npm) are required.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: install run test lint migrate bench

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (found %s); set PYTHON=/path/to/python3.11" % sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# The browser code: npm installs the locked packages, esbuild bundles frontend/ into static/dist/ (see docs/decisions.md).
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is required (Node.js 20): install nodejs and npm"; exit 1; }
	npm ci --no-audit --no-fund
	touch $@

static/dist/.built: node_modules/.installed $(wildcard frontend/*)
	npm run build
	touch $@

install: $(VENV)/.installed static/dist/.built

migrate: install
	$(PY) manage.py migrate --noinput

# The sandbox is served by this same server, so the AMC client's base URL follows the chosen port.
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py serve --port $(PORT)

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
