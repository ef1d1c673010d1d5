# Lanyard: `make demo` starts it, `make test` runs the tests. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
PYTEST_ARGS ?= -n 2

.PHONY: install test demo lint format migrate system-packages-test system-packages-demo

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

system-packages-test:
	bash scripts/system-packages.sh test

system-packages-demo:
	bash scripts/system-packages.sh demo

test: install system-packages-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: install system-packages-demo
	$(BIN)/python scripts/demo.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
