# Two entry points (see README): `make report` (the main job) and `make test`.
# Both create .venv and install the package with every CPU backend on first use; the install is
# redone only when pyproject.toml or constraints.txt change, so repeating either is cheap.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SEED ?= 20261124
REPORT_DIR ?= reports
TEST_REPORT_DIR ?= test-report

# JAX compiles every function for every new input shape; its persistent cache lets a later run
# reuse what an earlier one compiled (it never changes a result). Each xdist worker has a folder
# of its own in it (gw0, gw1, ...: JAX's cache takes no lock; see dlspec/plugin.py).
export JAX_COMPILATION_CACHE_DIR ?= $(abspath $(VENV))/jax-cache
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS ?= 0
export JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES ?= 0

SEEDS ?= 10
FIRST_SEED ?= 1
PROFILE ?= ci

.PHONY: test report lint clean sweep

# The Keras adapters are a plug-in package of their own (plugins/dlspec-keras), installed beside
# the suite as a user installs a third-party adapter.
PLUGIN := plugins/dlspec-keras

$(STAMP): pyproject.toml constraints.txt $(PLUGIN)/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[torch,jax,dev]'
	$(BIN)/python -m pip install --quiet -c constraints.txt -e $(PLUGIN)
	touch $(STAMP)

# Keras reads KERAS_BACKEND once per process: the main run has keras-jax, and keras-torch runs in
# a process of its own (the spec's tests and the plug-in's own: its mutants),
# whose report is merged into the main one. Both runs always complete; the target fails if
# either did.
KERAS_TORCH_RUN = KERAS_BACKEND=torch $(BIN)/python -m pytest tests $(PLUGIN)/tests \
	--backend keras-torch --dlspec-seed $(SEED) -m "not meta" -q -n auto \
	-o console_output_style=classic
MERGE = $(BIN)/python -m dlspec.cli report --merge

# Lint, then the conformance suite on every available backend at the `ci` profile, plus the
# suite's own tests, on every core (pytest-xdist; the workers' results merge into one report).
# Writes its report to an untracked folder so tracked files stay untouched.
test: $(STAMP)
	$(BIN)/ruff check .
	KERAS_BACKEND=jax $(BIN)/python -m pytest --backend all --hypothesis-profile ci \
		--dlspec-seed $(SEED) --report $(TEST_REPORT_DIR) -n auto; first=$$?; \
	$(KERAS_TORCH_RUN) --hypothesis-profile ci --report $(TEST_REPORT_DIR)/keras-torch; \
	second=$$?; $(MERGE) $(TEST_REPORT_DIR) $(TEST_REPORT_DIR)/keras-torch --out $(TEST_REPORT_DIR) \
		&& test $$first = 0 && test $$second = 0

# The committed reports: every available backend at the `thorough` profile, then the speed
# benchmarks of the conforming and diverging cells (added to the same report, even when some
# test failed). It prints where it is (a line every 30 s: tests done of all, failures, time);
# the log ends with the 20 slowest tests.
report: $(STAMP)
	@echo "make report: 1 of 3, the conformance suite (thorough, seed $(SEED))"
	KERAS_BACKEND=jax $(BIN)/python -m pytest --backend all --hypothesis-profile thorough \
		--dlspec-seed $(SEED) --report $(REPORT_DIR) -m "not meta" -q -n auto --durations=20 \
		--progress 30 -o console_output_style=classic; first=$$?; \
	echo "make report: 2 of 3, keras-torch in a process of its own, merged"; \
	$(KERAS_TORCH_RUN) --hypothesis-profile thorough --report $(TEST_REPORT_DIR)/keras-torch; \
	second=$$?; $(MERGE) $(REPORT_DIR) $(TEST_REPORT_DIR)/keras-torch --out $(REPORT_DIR); \
	echo "make report: 3 of 3, the speed benchmarks"; \
	KERAS_BACKEND=jax $(BIN)/python -m dlspec.benchmarks --report $(REPORT_DIR) \
		&& test $$first = 0 && test $$second = 0

# The seed sweep (a tool and a benchmark, not CI): the conformance suite on every available
# backend over SEEDS seeds from FIRST_SEED at PROFILE; one line per failure, sweep/summary.json.
sweep: $(STAMP)
	$(BIN)/python -m dlspec.sweep --seeds $(SEEDS) --first $(FIRST_SEED) --profile $(PROFILE) \
		--out sweep -- --backend all -n auto

# mypy checks the package as it is installed, dlspec with adapters/ and reference/ inside it
# (setuptools' package-dir, which mypy cannot follow): a tree of links laid out that way, with
# the Keras plug-in's package beside it.
TYPED := $(VENV)/typed

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	rm -rf $(TYPED) && mkdir -p $(TYPED)/dlspec
	ln -s $(abspath dlspec)/* $(TYPED)/dlspec/
	ln -s $(abspath adapters) $(TYPED)/dlspec/adapters
	ln -s $(abspath reference) $(TYPED)/dlspec/reference
	ln -s $(abspath spec) $(TYPED)/dlspec/spec
	ln -s $(abspath $(PLUGIN))/dlspec_keras $(TYPED)/dlspec_keras
	cd $(TYPED) && $(abspath $(BIN))/mypy --config-file $(abspath pyproject.toml) -p dlspec \
		-p dlspec_keras

clean:
	rm -rf $(VENV) $(TEST_REPORT_DIR) .hypothesis .pytest_cache
