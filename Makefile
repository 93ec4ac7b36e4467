# The README's two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
# What is computed once (the intent examples' vectors, the unrelated questions' baselines) is shared by every data dir.
export VALUERELAY_CACHE_DIR := $(CURDIR)/.cache

.PHONY: install run ingest test eval clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==26.3
	$(PY) -m pip install --quiet -c requirements.lock -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

ingest: install
	$(PY) ingest.py

# Sets everything up, ingests the sample corpus (a no-op when nothing changed)
# and starts the main job: the Slack bot when tokens are configured, else the terminal chat.
run: ingest
	$(PY) -m bot run

# Lint and format checks first, then the eval tables, then pytest (its summary closes the output).
# The eval measures the sample corpus on the golden set and on the field-style set's development
# and test halves, then the corpora from other industries (tests/corpora/README.md): clinic and
# fitness software (development: golden-style questions and a field set in halves), warehouse and
# tutoring software (held out, never tuned on: aggregates only).
CORPORA := clinic warehouse fitness tutoring
test: install
	$(PY) -m ruff check bot tests ingest.py
	$(PY) -m ruff format --check bot tests ingest.py
	$(PY) ingest.py --data-dir .data-eval --quiet
	$(PY) -m bot eval --data-dir .data-eval --questions tests/eval \
		--questions tests/eval/field/dev.yaml --questions tests/eval/field/dev2.yaml --questions tests/eval/field/test.yaml
	for corpus in $(CORPORA); do \
		$(PY) ingest.py --data-dir .data-$$corpus --quiet tests/corpora/$$corpus/corpus && \
		$(PY) -m bot eval --data-dir .data-$$corpus --questions tests/corpora/$$corpus/questions \
			$$(for set in tests/corpora/$$corpus/field/*.yaml; do printf -- '--questions %s ' $$set; done) || exit 1; \
	done
	VALUERELAY_TEST_SEED_INDEX=.data-eval $(PY) -m pytest

eval: install
	$(PY) -m bot eval

clean:
	rm -rf $(VENV) .data .data-eval $(CORPORA:%=.data-%) .cache
