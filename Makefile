# Every target sets up the venv from the project's own files first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test test-fast lint format demo crawl bench canary hexo site clean

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

# The edit-test loop: everything but the end-to-end crawls (tests/e2e/) and the Redis tests.
test-fast: venv
	$(BIN)/pytest -m "not e2e and not redis"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Offline demo: the stand-in for Sina (tests/standin.py) serves the roll API and the sample
# pages; the real spider discovers them through it (http_proxy) and writes into output/.
demo: venv
	@mkdir -p output; rm -f output/.standin.port; \
	$(BIN)/python -m tests.standin --roll-cap 5 --portfile output/.standin.port & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; rm -f output/.standin.port' EXIT; \
	for i in $$(seq 100); do [ -s output/.standin.port ] && break; sleep 0.1; done; \
	proxy=http://127.0.0.1:$$(cat output/.standin.port); \
	http_proxy=$$proxy HTTP_PROXY=$$proxy no_proxy= NO_PROXY= $(BIN)/scrapy crawl sina \
	  -a pages=10 -a refresh=1 -s SINA_ROLL_API_URL=http://feed.mix.sina.com.cn/api/roll/get \
	  -s LOG_FILE=output/demo.log; rc=$$?; \
	echo "Demo crawl exit status $$rc (log: output/demo.log)"; \
	echo "Posts: $$(ls output/posts/*.md 2>/dev/null | wc -l) in $(CURDIR)/output/posts/"; \
	echo "JSON lines: $(CURDIR)/output/articles.jsonl"; exit $$rc

crawl: venv
	$(BIN)/scrapy crawl sina

# Benchmarks (README: Performance): installs the `bench` extras, writes benchmarks/RESULTS.md.
bench: venv
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks.run

# Live canary (network): a few live pages per template family must come back complete.
# Daily from cron: `0 6 * * * cd /path/to/project && make -s canary`; a failure exits non-zero.
canary: venv
	$(BIN)/python -m crawler.canary

# Build sample posts in a stock Hexo 7 site (npm registry needed; not part of `make test`).
hexo: venv
	$(BIN)/python hexo/check.py

# The blog: a Hexo 7 site with the Volantis theme from output/posts, built into output/site/public
# (hexo/site.py; npm packages from hexo/site/package-lock.json, cached outside the repo).
site: venv
	$(BIN)/python hexo/site.py --posts output/posts --site output/site

clean:
	rm -rf output/posts output/state output/*.jsonl
