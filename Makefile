# The project's commands. `make check` runs exactly what CI runs: .ci/run is `make venv`,
# `make static`, the realworld servers' install, `make tests` (see the README's
# development section).
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
# Scratch venvs of the wheel and floor passes, and where the wheel is built.
WHEEL_VENV := .venv-wheel
FLOOR_VENV := .venv-floor
DIST := dist
# The lowest Textual the TUI runs on: the floor of the dependency in pyproject.toml.
TEXTUAL_FLOOR := $(shell sed -n 's/^ *"textual>=\([0-9.]*\),.*/\1/p' pyproject.toml)
# The TUI tests (Pilot, real objects); the floor pass runs those that compare no SVG.
TUI_TESTS := tests/tui/test_tui.py tests/tui/test_tui_debug.py tests/tui/test_tui_debug_fake.py \
	tests/tui/test_tui_palette.py tests/tui/test_hex_view.py tests/tui/test_tui_fit.py
# As root, the unit layer runs as nobody (no root, no kernel objects), from a venv of its own
# made with an interpreter whose standard library that user can read (pyenv's under /root: no).
UNIT_USER := 65534
UNIT_VENV := .venv-unit
AS_UNIT_USER := setpriv --reuid=$(UNIT_USER) --regid=$(UNIT_USER) --clear-groups
readable_by_unit_user = $(shell $(AS_UNIT_USER) test -r \
	"$$($(1) -c 'import os; print(os.__file__)' 2>/dev/null)" 2>/dev/null && echo $(1))
UNIT_PYTHON ?= $(firstword $(call readable_by_unit_user,$(PYTHON)) \
	$(call readable_by_unit_user,/usr/bin/python3))

.PHONY: help venv lint typecheck static test test-unit test-text-maps wheel test-floor tests check \
	format schema clean

help:
	@echo "make venv       $(VENV) with shmtop (editable) and the dev group (pip >= 25.1)"
	@echo "make check      what CI runs: static + tests (tests need root)"
	@echo "make static     lint (ruff, ruff format --check, lint-imports) + typecheck (mypy)"
	@echo "make tests      test-unit + test + test-text-maps + test-floor (which builds the wheel)"
	@echo "make test       the whole suite (python -m pytest)"
	@echo "make test-unit  tests/unit only, as an unprivileged user (nobody when run as root)"
	@echo "make wheel      build the abi3 wheel, check it, run it from a fresh venv"
	@echo "make test-floor the TUI tests on Textual $(TEXTUAL_FLOOR) (the floor), from the wheel"
	@echo "make format     ruff format + ruff check --fix (changes files)"
	@echo "make schema     regenerate schema/*.json from the document types (shmtop schema NAME)"

venv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e . --group dev

lint:
	@echo "== ruff"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@echo "== layers (import-linter: the contracts in pyproject.toml)"
	$(BIN)/lint-imports

typecheck:
	@echo "== mypy"
	$(BIN)/mypy

static: lint typecheck

test:
	@echo "== tests (the README's test command)"
	$(BIN)/python -m pytest

# No root, no kernel objects: as root, run as nobody (who may read the tree and the venv but
# write nothing there: no bytecode, no cache), so a test that needs root fails here.
ifeq ($(shell id -u),0)
test-unit: $(UNIT_VENV)/bin/pytest
	@echo "== unit tests (tests/unit) as nobody, from $(UNIT_VENV)"
	$(AS_UNIT_USER) env PYTHONDONTWRITEBYTECODE=1 \
	    $(UNIT_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/unit
else
test-unit:
	@echo "== unit tests (tests/unit), not root"
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit
endif

$(UNIT_VENV)/bin/pytest: pyproject.toml
	@test -n "$(UNIT_PYTHON)" || { echo "no Python whose library user $(UNIT_USER) can read:" \
	    "set UNIT_PYTHON" >&2; exit 1; }
	rm -rf $(UNIT_VENV)
	$(UNIT_PYTHON) -m venv $(UNIT_VENV)
	$(UNIT_VENV)/bin/pip install --quiet --upgrade pip
	$(UNIT_VENV)/bin/pip install --quiet -e . --group test
	touch $@

test-text-maps:
	@echo "== binding and collector tests on the text maps reader (SHMTOP_PROCMAP_QUERY=0)"
	SHMTOP_PROCMAP_QUERY=0 $(BIN)/python -m pytest -q tests/native/test_native.py \
	    tests/native/test_procfs.py tests/native/test_maps_readers.py \
	    tests/native/test_collect.py tests/native/test_collect_namespaces.py \
	    tests/native/test_posix_shm.py tests/native/test_full_scan.py tests/native/test_posix_steady.py tests/native/test_posix_reads.py \
	    tests/native/test_futex_waits.py \
	    tests/native/test_namespaces.py tests/native/test_namespace_scan.py \
	    tests/native/test_mq_waits.py tests/cli/test_cli_posix.py tests/cli/test_cli_namespaces.py \
	    tests/cli/test_cli_list_all.py tests/native/test_long_map_paths.py \
	    tests/native/test_exporter_posix.py tests/native/test_posix_mapper_facts.py \
	    tests/native/test_posix_tree.py tests/tui/test_tui_posix.py \
	    tests/cli/test_cli_posix_namespaces.py tests/native/test_confined_roots.py \
	    tests/native/test_posix_sem_layout.py

# Built as a user's pip builds it (isolated, setuptools from the build-system floor up), then
# installed without the source tree: run from / so nothing imports ./shmtop.
wheel:
	@echo "== wheel: build, check, install into a fresh venv, run from outside the tree"
	rm -rf $(DIST) $(WHEEL_VENV)
	$(BIN)/pip wheel --quiet --no-deps -w $(DIST) .
	$(BIN)/python .ci/check_wheel.py $(DIST)/shmtop-*.whl
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/pip install --quiet $(DIST)/shmtop-*.whl
	cd / && $(CURDIR)/$(WHEEL_VENV)/bin/shmtop --version
	cd / && $(CURDIR)/$(WHEEL_VENV)/bin/shmtop list

# The installed wheel at the Textual floor: pytest (not python -m) keeps ./shmtop off sys.path.
test-floor: wheel
	@echo "== TUI tests on Textual $(TEXTUAL_FLOOR), the floor (no SVG: snapshots are pinned)"
	rm -rf $(FLOOR_VENV)
	$(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/pip install --quiet $(DIST)/shmtop-*.whl "textual==$(TEXTUAL_FLOOR)" \
	    "pytest>=8,<9" "pytest-textual-snapshot>=1.1,<2" "pytest-asyncio>=1.0,<2"
	cd / && $(CURDIR)/$(FLOOR_VENV)/bin/python -c \
	    'import shmtop, importlib.metadata as m; print(shmtop.__file__, m.version("textual"))'
	$(FLOOR_VENV)/bin/pytest -q -p no:cacheprovider -m "not snapshot" $(TUI_TESTS)
	@echo "== --snapshot-update refused on Textual $(TEXTUAL_FLOOR)"
	! $(FLOOR_VENV)/bin/pytest -q -p no:cacheprovider --snapshot-update tests/tui/test_tui_snapshots.py

tests: test-unit test test-text-maps test-floor

check: static tests

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The committed JSON Schemas the README links: generated from the Structs, never edited by hand
# (tests/cli/test_json_contract.py fails when one is stale).
schema:
	@echo "== schema/: the JSON Schema of each document --json prints"
	mkdir -p schema
	for name in $$($(BIN)/python -c 'from shmtop.text.schemas import DOCUMENTS; print(*DOCUMENTS)'); \
	do $(BIN)/python -m shmtop schema $$name > schema/$$name.json || exit 1; done

clean:
	rm -rf $(DIST) build $(WHEEL_VENV) $(FLOOR_VENV) $(UNIT_VENV)
