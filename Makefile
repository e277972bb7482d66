# Every target sets up the venv from the project's own files first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test lint format demo crawl bench hexo clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

crawl: venv
	$(BIN)/scrapy crawl sina

# Build sample posts in a stock Hexo 7 site (npm registry needed; not part of `make test`).
hexo: venv
	$(BIN)/python hexo/check.py

clean:
	rm -rf output/posts output/state output/*.jsonl
