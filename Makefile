# The README's two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

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

# The eval prints its full table first; pytest's summary closes the output.
# Then the same eval on two corpora from other industries (tests/corpora/README.md):
# clinic software (used in development) and warehouse software (held out, never tuned on),
# to show how far the sample's figures carry.
CORPORA := clinic warehouse
test: install
	$(PY) ingest.py --data-dir .data-eval --quiet
	$(PY) -m bot eval --data-dir .data-eval
	for corpus in $(CORPORA); do \
		$(PY) ingest.py --data-dir .data-$$corpus --quiet tests/corpora/$$corpus/corpus && \
		$(PY) -m bot eval --data-dir .data-$$corpus --questions tests/corpora/$$corpus/questions || exit 1; \
	done
	VALUERELAY_TEST_SEED_INDEX=.data-eval $(PY) -m pytest

eval: install
	$(PY) -m bot eval

clean:
	rm -rf $(VENV) .data .data-eval $(CORPORA:%=.data-%)
