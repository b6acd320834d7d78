# The two quick-start commands (README): `make demo [VIDEO=path]` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Installed without their declared requirements: rapidocr-onnxruntime asks for opencv-python
# (which needs libGL; pyproject brings the headless build), invisible-watermark asks for torch
# (the tests load only its encoder file). Their real requirements are in pyproject.toml.
NO_DEPS := rapidocr-onnxruntime==1.4.4 invisible-watermark==0.2.0

.PHONY: demo test lint bench clean messages catalogs

# One virtual environment with Verity and its development tools, rebuilt when pyproject changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps $(NO_DEPS)
	$(MAKE) --no-print-directory catalogs
	touch $@

# The tests also train a tiny model: PyTorch, torchvision and timm (the train extra; pip takes
# torch 2.14.1 from this machine's disk). Analysing needs none of them.
$(VENV)/.installed-train: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,train]'
	touch $@

# Analyse VIDEO, or a demo clip Verity makes itself, and write an HTML report beside it.
demo: $(VENV)/.installed
	$(BIN)/verity $(if $(VIDEO),check "$(VIDEO)",demo) --html verity-report.html

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# scripts/test-servers installs and starts the servers the suite uses (Redis, PostgreSQL,
# Chromium...) where it can, and prints the PostgreSQL URL for the store tests.
test: lint $(VENV)/.installed-train
	@url="$$(scripts/test-servers)"; VERITY_TEST_POSTGRES_URL="$$url" $(BIN)/pytest

bench: $(VENV)/.installed-train
	$(BIN)/python benchmarks/analyze_vs_decode.py
	$(BIN)/python benchmarks/c2pa_check.py
	$(BIN)/python benchmarks/watermark_checks.py
	$(BIN)/python benchmarks/visible_marks.py
	$(BIN)/python benchmarks/scan_throughput.py
	$(BIN)/python benchmarks/service_overhead.py
	$(BIN)/python benchmarks/classifier.py

# Translations (service/i18n.py): `make messages` extracts every marked string into the template
# and merges it into each language's catalogue (then translate what is new or fuzzy); `make
# catalogs` compiles them (the install does it; Verity compiles a missing one in memory).
BABEL_EXTRACT := -F babel.cfg -k phrase -k N_ --no-location --sort-output --project Verity \
	--copyright-holder "Verity contributors" --msgid-bugs-address "https://verity.invalid/issues"
messages:
	$(BIN)/pybabel extract $(BABEL_EXTRACT) -o service/locale/verity.pot .
	$(BIN)/pybabel update -i service/locale/verity.pot -d service/locale -D verity \
		--width 100

catalogs:
	$(BIN)/pybabel -q compile -d service/locale -D verity --statistics

clean:
	rm -rf $(VENV) .verity verity-report.html
