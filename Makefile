# stowage: the two commands a newcomer needs are `make demo` and `make test`.
# Everything they need is installed by the project itself (setup, tools).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
TOOLS  := .tools/bin
export PATH := $(CURDIR)/$(TOOLS):$(CURDIR)/$(BIN):$(PATH)

.PHONY: setup graphviz checkov owl-oracle tools helmfile demo test lint typecheck chart-check pytest bench \
	bench-compare fuzz mutate docs clean cluster-bin cluster cluster-down e2e

# checkov (the Pod Security scanner the tests use) lives in its own venv: its large
# dependency tree must not move the project's pinned packages.
CHECKOV_VERSION := 3.3.30

# setup is what the demo and the post-renderer need; the test targets add checkov.
setup: $(VENV)/.installed tools graphviz

# Graphviz (Debian's package) lays out `stowage graph --format svg|png`; without it
# stowage falls back to a simple built-in SVG, so a machine without root still works.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && apt-get install -y -qq --no-install-recommends graphviz >/dev/null; } \
	      || echo "make: could not install graphviz: stowage graph uses its built-in layout"; \
	  else \
	    echo "make: Graphviz's dot is missing (apt-get install graphviz): stowage graph uses its built-in layout"; \
	  fi; }

checkov: .tools/checkov/.installed

.tools/checkov/.installed:
	$(PYTHON) -m venv .tools/checkov
	.tools/checkov/bin/pip install --quiet --disable-pip-version-check "checkov==$(CHECKOV_VERSION)"
	touch $@

# The Owl oracle (tests/oracle/): owl-pipeline-server 0.8.3 and its 2021 dependencies in
# their own venv, every package pinned in the requirements file, installed --no-deps.
OWL_ORACLE := .tools/owl-oracle

owl-oracle: $(OWL_ORACLE)/.installed

$(OWL_ORACLE)/.installed: ci/owl-oracle-requirements.txt
	rm -rf $(OWL_ORACLE)
	$(PYTHON) -m venv $(OWL_ORACLE)
	$(OWL_ORACLE)/bin/pip install --quiet --disable-pip-version-check --no-deps \
		-r ci/owl-oracle-requirements.txt
	touch $@

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

tools:
	$(PYTHON) ci/install_tools.py --dest $(TOOLS)

# helmfile v1.8.0 for tests/test_gitops.py, built from the pinned Go module in ci/helmfile/
# (helmfile's replace directives rule out `go install`): a few minutes of CPU with cold Go
# caches, then cached under .tools/helmfile. See ci/helmfile/README.md.
helmfile: $(VENV)/.installed
	$(PY) ci/install_helmfile.py --dest $(TOOLS)

# The default chart mounts no data or outputs on a multi-node cluster until you say where
# they live; the demo shows it as on one node (kind, a laptop), with host directories.
DEMO_ARGS ?= --set cluster.singleNode=true

demo: setup
	$(PY) -m stowage.views.demo $(DEMO_ARGS)

lint: setup
	$(BIN)/ruff check postrenderer tests ci benchmarks cluster
	$(BIN)/ruff format --check postrenderer tests ci benchmarks cluster
	$(BIN)/lint-imports  # the stages' layers, pyproject.toml [tool.importlinter]

typecheck: setup
	MYPYPATH=cluster:ci $(BIN)/mypy postrenderer/stowage tests
	$(BIN)/mypy --strict ci/install_tools.py ci/install_helmfile.py benchmarks/bench.py \
		benchmarks/compare.py cluster/kcluster.py ci/mutation_table.py

chart-check: setup
	$(TOOLS)/helm lint --strict chart
	$(TOOLS)/helm3 lint --strict chart

pytest: setup checkov owl-oracle helmfile
	$(BIN)/pytest -n 2 -q --ignore=tests/e2e

# A real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler
# v1.37.2) on loopback, built from the pinned Go modules in cluster/ on first use (about
# 12 minutes of CPU with cold Go caches, under a minute warm; cached under .tools/cluster).
# See docs/e2e.md.
cluster-bin: $(VENV)/.installed
	$(PY) cluster/kcluster.py build

cluster: cluster-bin
	$(PY) cluster/kcluster.py up

cluster-down:
	$(PYTHON) cluster/kcluster.py down

# The e2e tier starts its own cluster (one per session, on free ports) and stops it.
e2e: setup owl-oracle cluster-bin
	$(BIN)/pytest -q tests/e2e

test: lint typecheck chart-check pytest e2e

bench: setup
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[bench]"
	$(PY) benchmarks/bench.py $(BENCH_ARGS)
	$(PY) benchmarks/limits.py

# A refactor's cost: stowage at BASE against the working tree, alternating on the same
# inputs (CPU and wall medians). E.g. make bench-compare BASE=55622c7^
bench-compare: setup
	$(PY) benchmarks/compare.py --base "$(BASE)" $(COMPARE_ARGS)

fuzz: setup
	mkdir -p .fuzz-corpus
	$(PY) tests/fuzz/fuzz_render.py -atheris_runs=$${FUZZ_RUNS:-50000} .fuzz-corpus \
		tests/fuzz/corpus tests/fixtures/third-party

# Mutation testing of the safety logic ([tool.mutmut] in pyproject.toml): slow, so not part
# of `make test`. It runs in .mutate/, where src/ links to postrenderer/ and the rest to the
# project. MUTATE_ARGS narrows it, e.g. MUTATE_ARGS='"stowage.checks.sw101*"'.
MUTMUT_VERSION := 3.8.1
MUTATE_LINKS   := tests chart values-examples docs pyproject.toml

mutate: setup
	$(PY) -m pip install --quiet --disable-pip-version-check "mutmut==$(MUTMUT_VERSION)"
	mkdir -p .mutate
	ln -sfn ../postrenderer .mutate/src
	for link in $(MUTATE_LINKS); do ln -sfn ../$$link .mutate/$$link; done
	mkdir -p .mutate/mutants && ln -sfn ../../.tools .mutate/mutants/.tools  # helm, for charts tests render
	cd .mutate && $(CURDIR)/$(BIN)/mutmut run --max-children 2 $(MUTATE_ARGS); \
	  $(CURDIR)/$(BIN)/mutmut results

docs: setup  # regenerate the schema, chart README, config reference and checks reference
	$(PY) -m stowage.plan.schema
	$(PY) -m stowage.checks.docs

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache .hypothesis
