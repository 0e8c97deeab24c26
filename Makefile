# Two commands for everyone (README "Quickstart"):
#   make lab   -> JupyterLab on the course      make test -> the whole test suite
# Both create .venv with Python >= 3.11 and install the project when missing.

VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)

.PHONY: lab test venv bench clean-venv jupyterhub-proxy hub

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python >= 3.11 is required (nbgrader 0.9.6 needs it); install python3.11 or newer" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

# Jupyter refuses to run as root unless told; containers often are root
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

# the address JupyterLab prints opens lecture 01 (not the Launcher)
FIRST := lectures/01_gradient_based_learning.ipynb
lab: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab --notebook-dir=. $(ROOT_FLAG) \
		--LabApp.default_url=/lab/tree/$(FIRST) $(LAB_ARGS)

# the test extras: Playwright for the browser test (tests/test_browser_e2e.py, marker `browser`;
# it drives Debian's chromium and skips, saying why, where there is none).
# PYTEST_ARGS='-m "not browser"' leaves it out.
TEST_STAMP := $(VENV)/.installed-test
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

test: $(TEST_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_layers.py

clean-venv:
	rm -rf $(VENV)

# --- grading (nbgrader) ---
# The instructor's loop (python -m grader --help). AID=ex02_softplus limits to one
# assignment; SUBMISSIONS=path/to/lms.zip (or a folder) for grade-lms.
GRADE := PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m grader

.PHONY: release collect grade feedback export grade-lms mutants sandbox-check student-copy

release: $(STAMP)        ## exercises/ from solutions/, then release to the exchange
	$(GRADE) release $(AID)

collect: $(STAMP)
	$(GRADE) collect $(AID)

grade: $(STAMP)          ## collect + autograde + feedback + grader/work/grades.csv (WORKERS=2: in parallel)
	$(GRADE) grade $(AID) $(if $(WORKERS),--workers $(WORKERS))

feedback: $(STAMP)       ## feedback HTML without hidden tests, released to the exchange
	$(GRADE) feedback $(AID) --release

export: $(STAMP)
	$(GRADE) export

grade-lms: $(STAMP)      ## make grade-lms AID=ex01_sigmoid_tanh SUBMISSIONS=downloads.zip
	@test -n "$(AID)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade-lms AID=<assignment> SUBMISSIONS=<zip or folder>" >&2; exit 2; }
	$(GRADE) grade-lms $(AID) $(SUBMISSIONS)

mutants: $(STAMP)        ## source full marks, blank release 0, every mutant less
	$(GRADE) mutants $(AID)

sandbox-check: $(STAMP)
	$(GRADE) sandbox

student-copy: $(STAMP)   ## make student-copy DEST=../course-for-students
	@test -n "$(DEST)" || { echo "usage: make student-copy DEST=<new folder>" >&2; exit 2; }
	$(GRADE) student-copy $(DEST)
# --- end grading ---

# --- JupyterHub (grader/JUPYTERHUB.md) ---
# configurable-http-proxy from npm into .jhub/ (git-ignored), where grader/jupyterhub/jupyterhub_config.py
# and tests/test_jupyterhub.py look for it (.ci/run runs this before `make test`; the test skips,
# saying why, without it). Its 5.x needs node >= 22 (commander 15); 4.6 runs on older node.
CHP := .jhub/node_modules/.bin/configurable-http-proxy
jupyterhub-proxy:
	@command -v npm >/dev/null || { echo "error: npm is needed for configurable-http-proxy (Debian: apt install nodejs npm)" >&2; exit 1; }
	@test -x $(CHP) || npm install --prefix .jhub --no-audit --no-fund --loglevel=error \
		configurable-http-proxy@$$(node -e 'console.log(+process.versions.node.split(".")[0] >= 22 ? "5" : "4.6")')
	@echo "configurable-http-proxy $$($(CHP) --version) in .jhub/"

# JupyterHub for the course on this machine (settings: grader/jupyterhub/jupyterhub_config.py)
hub: $(STAMP) jupyterhub-proxy
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyterhub -f grader/jupyterhub/jupyterhub_config.py
