# Two commands a newcomer needs: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: venv test lint demo demo-pay bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

lint: venv
	$(BIN)/ruff check .

test: venv lint
	APP_ENV=test $(BIN)/pytest

demo: venv
	APP_ENV=$${APP_ENV:-demo} $(BIN)/python -m bx24app.demo

demo-pay: venv
	APP_ENV=$${APP_ENV:-demo} $(BIN)/python -m bx24app.demo pay

bench: venv
	APP_ENV=test $(BIN)/python -m bench.sync --size medium

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
