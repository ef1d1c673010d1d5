# Lanyard: `make demo` starts it, `make test` runs the tests. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
PYTEST_ARGS ?= -n 2

.PHONY: install test demo lint format migrate

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: install
	$(BIN)/python scripts/demo.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
