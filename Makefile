# The two commands of the README, on a fresh machine from a clean clone:
#   make demo   creates .venv, installs dslearn, runs the main job on the embedded synthetic corpus
#   make test   creates .venv if missing, installs, runs ruff and the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Re-install whenever the declared dependencies change.
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install demo test lint bench bench-voices book slides clean voices

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
	$(BIN)/ruff check dslearn tests benchmarks docs
	$(BIN)/ruff format --check dslearn tests benchmarks docs

# Debian's Chromium for the browser tests (Playwright cannot download browsers here). Where apt is
# missing the install fails harmlessly and the browser tests are skipped.
/usr/bin/chromium:
	-SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); $$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null

# The Asterisk PBX's English prompts (real speech, one speaker, 8 kHz; CC BY-SA 3.0) for
# `dslearn data prepare asterisk`; where apt is missing their test is skipped.
/usr/share/asterisk/sounds/en/added.wav:
	-SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); $$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
		asterisk-core-sounds-en-wav asterisk-core-sounds-en >/dev/null

# More speech engines and open English text for `dslearn synth --engines ... --open-text`:
# CMU Flite, Festival with three festvox voices, WordNet (licences in docs/voices.md). Where apt
# is missing the install fails harmlessly and their tests are skipped, naming the package.
VOICE_PACKAGES := flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts wordnet-base
/usr/share/wordnet/data.noun:
	-SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); $$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(VOICE_PACKAGES) >/dev/null

voices: /usr/share/wordnet/data.noun

# The unit tests, the browser tests, and the notebook course under nbval in quick mode.
test: lint /usr/bin/chromium /usr/share/asterisk/sounds/en/added.wav /usr/share/wordnet/data.noun
	$(BIN)/python -m pytest tests notebooks --nbval-lax

# Every CPU benchmark, then one summary table of them all (JSON in BENCH_OUT). About 15 minutes on
# 2 cores; the same scripts add GPU rows by themselves where CUDA is present.
BENCH_OUT ?= runs/bench
FSDD ?= ../shared/fsdd
bench: install
	mkdir -p $(BENCH_OUT)
	$(BIN)/python benchmarks/synth_speed.py --json $(BENCH_OUT)/synth_speed.json
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python \
		benchmarks/features_vs_librosa.py --fsdd $(FSDD) --threads 1 --json $(BENCH_OUT)/features.json
	$(BIN)/dslearn synth --out data/bench --hours 2 --seed 1 --overwrite
	$(BIN)/python benchmarks/decoders.py --manifest data/bench/test.jsonl --json $(BENCH_OUT)/decoders.json
	$(BIN)/python benchmarks/alignment.py --manifest data/bench/test.jsonl --json $(BENCH_OUT)/alignment.json
	$(BIN)/python benchmarks/train_throughput.py --manifest data/bench/train.jsonl --steps 4 --warmup 1 \
		--batch-seconds 20 --profile --json $(BENCH_OUT)/train_throughput.json
	$(BIN)/python benchmarks/rnn_packing.py --json $(BENCH_OUT)/rnn_packing.json
	$(BIN)/python benchmarks/inference_rtf.py --manifest data/bench/test.jsonl --json $(BENCH_OUT)/inference_rtf.json
	$(BIN)/python benchmarks/ddp_scaling.py --manifest-dir data/bench --json $(BENCH_OUT)/ddp_scaling.json
	$(BIN)/python benchmarks/summary.py $(BENCH_OUT)

# Does the model hear people? benchmarks/real_voices.py: LibriSpeech test-other (100), the held-out
# FSDD speaker and Asterisk prompts, CMU Flite (the engine left out of training), the synthetic
# test splits and a 3-minute file, PocketSphinx beside dslearn on the real sets. About 20 minutes
# on 2 cores, so its own target rather than part of `make bench`; a set whose data is missing here
# is skipped with the reason (LibriSpeech and FSDD are looked for in ../shared or their variables).
LIBRISPEECH ?= ../shared/librispeech-test-other-100
bench-voices: install voices /usr/share/asterisk/sounds/en/added.wav
	mkdir -p $(BENCH_OUT)
	$(BIN)/python benchmarks/real_voices.py --work data/real_voices --librispeech $(LIBRISPEECH) \
		--fsdd $(FSDD) --json $(BENCH_OUT)/real_voices.json

# The course as static HTML with widget state embedded, readable without a kernel (quick mode by
# default; DSLEARN_QUICK=0 make book for full mode). The widget renderer and require.js come from
# npm into build/book/_static so that pages work offline; without npm they load from a CDN.
BOOK := build/book
book: install
	rm -rf $(BOOK) && mkdir -p $(BOOK)/_static
	-cd $(BOOK)/_static && npm pack --silent @jupyter-widgets/html-manager@^1 requirejs@2 >/dev/null && \
		tar xzf jupyter-widgets-html-manager-*.tgz && mv package html-manager && \
		tar xzf requirejs-*.tgz && mv package requirejs && rm -f *.tgz
	DSLEARN_QUICK=$${DSLEARN_QUICK-1} $(BIN)/jupyter nbconvert --to html --execute \
		--ExecutePreprocessor.timeout=1800 --output-dir $(BOOK) \
		$$(test -f $(BOOK)/_static/requirejs/require.js && echo \
			--HTMLExporter.widget_renderer_url=_static/html-manager/dist/embed-amd.js \
			--HTMLExporter.require_js_url=_static/requirejs/require.js) \
		notebooks/[0-9]*.ipynb
	$(BIN)/python -c "import pathlib; pages = sorted(p.name for p in pathlib.Path('$(BOOK)').glob('[0-9]*.html')); \
		pathlib.Path('$(BOOK)/index.html').write_text('<h1>dslearn: the course</h1><ol>' + \
		''.join(f'<li><a href=\"{p}\">{p[3:-5].replace(\"_\", \" \")}</a></li>' for p in pages) + '</ol>')"
	@echo "open $(BOOK)/index.html"

# reveal.js slides, one deck per chapter, from the committed outputs (cells tagged for slides by
# their headings: docs/make_slides.py). reveal.js comes from npm into build/slides/reveal.js so the
# decks work offline; without npm they load it from a CDN.
SLIDES := build/slides
slides: install
	rm -rf $(SLIDES) && mkdir -p $(SLIDES)
	-cd $(SLIDES) && npm pack --silent reveal.js@4 >/dev/null && tar xzf reveal.js-*.tgz && \
		mv package reveal.js && rm -f reveal.js-*.tgz
	$(BIN)/python docs/make_slides.py --out $(SLIDES) \
		$$(test -f $(SLIDES)/reveal.js/dist/reveal.js && echo --reveal-prefix reveal.js)
	@echo "open $(SLIDES)/00_quickstart.slides.html"

clean:
	rm -rf $(VENV) data/demo .pytest_cache .ruff_cache build notebooks/_work test-artifacts
