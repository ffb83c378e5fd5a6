# make demo  — set everything up, then pretrain + evaluate on the demo data
# make test  — set everything up, then lint and run the test suite
PY := .venv/bin/python
STAMP := .venv/.installed
SEED ?= 0

.PHONY: install demo test lint pytest clean-venv

install: $(STAMP)

# Re-run the installer when it or a requirements file changes.
$(STAMP): tools/install_env.sh setup.py requirements/*.txt
	bash tools/install_env.sh
	touch $@

lint: $(STAMP)
	$(PY) -m ruff check clsa_mm tools tests configs

pytest: $(STAMP)
	$(PY) -m pytest tests

test: lint pytest

demo: $(STAMP)
	bash tools/demo.sh $(SEED)

clean-venv:
	rm -rf .venv
