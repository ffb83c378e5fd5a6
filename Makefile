# make demo  — set everything up, then pretrain + evaluate on the demo data
# make test  — set everything up, then lint and run the test suite
# make mutation — mutation score of the method files (slow; not in make test)
PY := .venv/bin/python
STAMP := .venv/.installed
SEED ?= 0

.PHONY: install demo test lint pytest mutation clean-venv

install: $(STAMP)

# Re-run the installer when it or a requirements file changes.
$(STAMP): tools/install_env.sh setup.py requirements/*.txt
	bash tools/install_env.sh
	touch $@

lint: $(STAMP)
	$(PY) -m ruff check clsa_mm tools tests configs

# Two pytest-xdist workers, in a random order (pytest-randomly): faster
# than one process on 2 cores (measured in docs/testing.md). PYTEST_ARGS adds options,
# e.g. PYTEST_ARGS="-p randomly --randomly-seed=N" to replay an order.
pytest: $(STAMP)
	$(PY) -m pytest tests -n 2 $(PYTEST_ARGS)

test: lint pytest

# mutmut (config: setup.cfg [mutmut]) from scratch, then the score, the
# survivors and the wall time. MUTATION_JOBS mutants run at once.
MUTATION_JOBS ?= 2
mutation: $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements/mutation.txt
	rm -rf mutants
	@set -e; start=$$(date +%s); \
	OMP_NUM_THREADS=1 .venv/bin/mutmut run --max-children $(MUTATION_JOBS); \
	.venv/bin/mutmut results --all true > mutants/results.txt; \
	echo "Mutants not killed:"; \
	grep -v ': killed$$' mutants/results.txt || echo "    (none)"; \
	awk -F': ' '{n[$$NF]++; t++} END {printf "Mutation score: %d of %d mutants killed (%.1f %%)", n["killed"], t, 100 * n["killed"] / t; for (s in n) if (s != "killed") printf ", %d %s", n[s], s; print ""}' mutants/results.txt; \
	secs=$$(( $$(date +%s) - start )); \
	echo "Mutation time: $$(( secs / 60 )) min $$(( secs % 60 )) s, $(MUTATION_JOBS) jobs on $$(nproc) cores"

demo: $(STAMP)
	bash tools/demo.sh $(SEED)

clean-venv:
	rm -rf .venv
