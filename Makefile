# Two commands do all set-up on a fresh machine: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PY_VERSION ?= 3.11
VENV := .venv
STAMP := $(VENV)/.installed-stamp
UV := .tools/bin/uv

.PHONY: install run test test-hostile test-pg lint fmt eval bench eval-docs bench-docs screenshots loadtest clean

$(UV):
	python$(PY_VERSION) -m venv .tools || python3 -m venv .tools
	.tools/bin/pip install --quiet 'uv>=0.5,<1'

# Installs from the lock file: face_recognition's `dlib` is overridden by the prebuilt dlib-bin wheel.
$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --inexact --extra test --extra lint --python $(PY_VERSION)
	@touch $(STAMP)

install: $(STAMP)

run: install
	@scripts/run.sh

# --postgres: the migration tests upgrade a release-1 database on PostgreSQL too (their own idsvc_test_db).
test: install
	@scripts/ensure_services.sh --postgres
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The standing hostile-input suite (#9): repros, hostile files, OpenAPI fuzzing, failure injection.
# tests/hostile/conftest.py also marks the older #9 regression tests it lists (HOSTILE_REGRESSIONS).
test-hostile: install
	@scripts/ensure_services.sh
	$(VENV)/bin/pytest -m hostile tests/hostile $$($(VENV)/bin/python -m tests.hostile.regressions) $(PYTEST_ARGS)

# The same suite against PostgreSQL (what CI runs).
test-pg: install
	@scripts/ensure_services.sh --postgres
	IDSVC_TEST_DATABASE_URL=$${IDSVC_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/idsvc_test} $(VENV)/bin/pytest $(PYTEST_ARGS)

# The gates CI holds at zero: style, formatting, types, and the import contracts (layers).
lint: install
	$(VENV)/bin/ruff check idsvc mock_wechat tests scripts
	$(VENV)/bin/ruff format --check idsvc mock_wechat tests scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

fmt: install
	$(VENV)/bin/ruff check --fix idsvc mock_wechat tests scripts
	$(VENV)/bin/ruff format idsvc mock_wechat tests scripts

eval: install
	$(VENV)/bin/python scripts/eval_liveness.py

bench: install
	$(VENV)/bin/python scripts/bench_liveness.py

eval-docs: install
	$(VENV)/bin/python scripts/eval_docs.py

bench-docs: install
	$(VENV)/bin/python scripts/bench_docs.py
	$(VENV)/bin/python scripts/bench_certificate.py

# Every member and desktop screen at 320x568, 390x844 and 1366x768 into docs/screens/ (docs/ux.md).
screenshots: install
	@scripts/ensure_services.sh
	$(VENV)/bin/python scripts/screenshots.py

# Thousands of desktops long-polling one `idsvc serve` on loopback, with and without videos (#10);
# bounded (--max-seconds, --max-requests), stops by itself, writes the table into docs/capacity.md.
loadtest: install
	@scripts/ensure_services.sh --postgres
	$(VENV)/bin/python scripts/loadtest.py $(LOADTEST_ARGS)

clean:
	rm -rf $(VENV) .tools var .pytest_cache
