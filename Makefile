# The two commands of the README, on a fresh machine from a clean clone:
#   make demo   creates .venv, installs dslearn, runs the main job on the embedded synthetic corpus
#   make test   creates .venv if missing, installs, runs ruff and the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Re-install whenever the declared dependencies change.
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,notebooks]"
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: install
	$(BIN)/dslearn demo --out data/demo

lint: install
	$(BIN)/ruff check dslearn tests benchmarks
	$(BIN)/ruff format --check dslearn tests benchmarks

# Debian's Chromium for the browser tests (Playwright cannot download browsers here). Where apt is
# missing the install fails harmlessly and the browser tests are skipped.
/usr/bin/chromium:
	-SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); $$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null

# The unit tests, the browser tests, and the notebook course under nbval in quick mode.
test: lint /usr/bin/chromium
	$(BIN)/python -m pytest tests notebooks --nbval-lax

bench: install
	$(BIN)/python benchmarks/synth_speed.py
	$(BIN)/python benchmarks/features_vs_librosa.py
	$(BIN)/dslearn synth --out data/bench --hours 2 --seed 1 --overwrite
	$(BIN)/python benchmarks/decoders.py --manifest data/bench/test.jsonl
	$(BIN)/python benchmarks/alignment.py --manifest data/bench/test.jsonl

clean:
	rm -rf $(VENV) data/demo .pytest_cache .ruff_cache
