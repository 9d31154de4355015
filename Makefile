# vagrantless.libvirt: one entry point for the venv, the lab and every test layer.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV     ?= .venv
PYTHON   ?= python3.11
BIN      := $(CURDIR)/$(VENV)/bin
LAB      := $(CURDIR)/tests/lab/lab
REMOTE   := $(CURDIR)/tests/lab/remote
ROOTLESS := $(CURDIR)/tests/lab/rootless
RESULTS  := $(CURDIR)/tests/output/results
COLL     := $(CURDIR)/.collections/ansible_collections/vagrantless/libvirt
# Outside the checkout: inside it, ansible-test would ask git and see an ignored tree.
BUILD    := /tmp/vagrantless-$(shell echo $(CURDIR) | md5sum | cut -c1-8)/ansible_collections/vagrantless/libvirt
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(BIN):$(PATH)

.PHONY: help venv lab lab-down generated smoke units sanity lint integration e2e remote remote-down rootless rootless-down reliability molecule ee demo demo-down summary test clean .build

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.done: requirements.txt requirements-dev.txt
	$(LAB) packages
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	tests/ansible-test-offline
	touch $@

# The checkout is the collection: a symlink, so nothing goes stale.
$(COLL):
	mkdir -p $(dir $(COLL))
	ln -sfn ../../.. $(COLL)

venv: $(VENV)/.done $(COLL)  ## the project venv (pinned ansible-core, deps, pytest, ansible-lint, molecule)

lab:  ## a private libvirtd in a network namespace and the tiny test box
	$(LAB) locked $(LAB) up

lab-down:  ## stop the lab's libvirtd and remove its namespace
	$(LAB) down

smoke: lab  ## boot the tiny box with plain virsh and run a command over SSH
	mkdir -p $(RESULTS)
	if $(LAB) locked $(LAB) smoke; then r='<testcase name="tiny box boots and answers SSH"/>'; \
	else r='<testcase name="tiny box boots and answers SSH"><failure/></testcase>'; fi; \
	echo "<testsuite name=\"lab\">$$r</testsuite>" > $(RESULTS)/smoke.xml; \
	case "$$r" in *failure*) exit 1;; esac

generated: venv  ## rewrite what the option declarations give: module DOCUMENTATION options, roles' argument specs
	PYTHONPATH=$(CURDIR)/.collections $(BIN)/python tests/module_docs.py
	PYTHONPATH=$(CURDIR)/.collections $(BIN)/python tests/argument_specs.py

units: venv  ## unit tests (libvirt's test:///default driver, no lab needed)
	mkdir -p $(RESULTS)
	PYTHONPATH=$(CURDIR)/.collections $(BIN)/python -m pytest -q -p no:cacheprovider \
	    --import-mode=importlib --junitxml=$(RESULTS)/units.xml tests/unit

# ansible-test wants the tree under ansible_collections/NS/NAME: a fresh copy each run.
.build: venv
	mkdir -p $(BUILD)
	rsync -a --delete --exclude-from=tests/build-exclude ./ $(BUILD)/

sanity: .build  ## ansible-test sanity, no ignore file
	rm -rf $(BUILD)/tests/output
	mkdir -p $(RESULTS)
	# the report is kept whatever the outcome: a failed layer is counted, never dropped
	cd $(BUILD) && $(BIN)/ansible-test sanity --local --python 3.11 --color no --junit; rc=$$?; \
	    cp $(BUILD)/tests/output/junit/*.xml $(RESULTS)/ 2>/dev/null; exit $$rc

lint: venv  ## ansible-lint (production profile) on the roles, playbooks, examples and Molecule scenarios
	mkdir -p $(RESULTS)
	if $(BIN)/ansible-lint --offline --nocolor roles playbooks examples $(wildcard extensions); \
	then r='<testcase name="ansible-lint production profile"/>'; \
	else r='<testcase name="ansible-lint production profile"><failure/></testcase>'; fi; \
	echo "<testsuite name=\"lint\">$$r</testsuite>" > $(RESULTS)/lint.xml

integration: .build lab  ## ansible-test integration targets against the lab's libvirtd
	eval "$$($(LAB) env)" && tests/integration/write-config $(BUILD)/tests/integration/integration_config.yml
	rm -rf $(BUILD)/tests/output
	mkdir -p $(RESULTS)/integration
	cd $(BUILD) && $(LAB) locked $(LAB) exec $(BIN)/ansible-test integration --local --python 3.11 --color no $(TARGETS); \
	    rc=$$?; cp $(BUILD)/tests/output/junit/*.xml $(RESULTS)/integration/ 2>/dev/null; exit $$rc

e2e: venv lab  ## the Vagrant verbs end to end on real VMs in the lab (TESTS=-k name for some)
	mkdir -p $(RESULTS)
	$(LAB) box debian
	eval "$$($(LAB) env)" && $(LAB) locked $(LAB) exec $(BIN)/python -m pytest -v -p no:cacheprovider \
	    --junitxml=$(RESULTS)/e2e.xml tests/e2e $(TESTS)

# pytest runs as the controller (tests/lab/remote exec): in namespace vlt-ctl, no route but to the
# stand-in hypervisors, no local libvirt socket. Not part of `make test` (nor of its summary) yet.
remote: venv lab  ## the remote-hypervisor bed: a controller namespace reaching the lab only over SSH (hv1, hv2), and its tests
	mkdir -p $(RESULTS)
	$(LAB) locked $(REMOTE) up
	eval "$$($(LAB) env)" && $(LAB) locked $(REMOTE) exec $(BIN)/python -m pytest -v -p no:cacheprovider \
	    --junitxml=$(RESULTS)/remote.xml tests/remote $(TESTS)

remote-down:  ## remove the remote-hypervisor bed (its sshd, veth, namespace, keys)
	$(REMOTE) down

# pytest runs AS the unprivileged user vlt-rootless (tests/lab/rootless exec): in namespace vlt-rl (lo
# only), from the synced collection, with the user's venv, no system libvirt. `up` (which syncs this
# checkout) and the tests hold the lab lock together: another checkout's `up` syncs its own tree.
# The report is written where the user may write, then copied; a run that wrote none is a failure.
ROOTLESS_REPORT := <testsuite name="rootless" tests="1" failures="1"><testcase classname="rootless" name="the rootless layer wrote a report"><failure message="pytest as the bed user wrote no report (exit %s)"/></testcase></testsuite>\n
rootless: lab  ## the rootless bed: an unprivileged user with qemu:///session and QEMU user-mode networking, and its tests (TESTS=-k name for some)
	mkdir -p $(RESULTS)
	rm -f $(RESULTS)/rootless.xml
	$(LAB) locked sh -c 'bed=$$1; shift; "$$bed" up && eval "$$("$$bed" env)" && rm -rf "$${ROOTLESS_HOME:?}/results" && \
	    exec "$$bed" exec python -m pytest -v -p no:cacheprovider --junitxml="$$ROOTLESS_HOME/results/rootless.xml" \
	    tests/rootless "$$@"' sh $(ROOTLESS) $(TESTS); \
	rc=$$?; report=$$($(ROOTLESS) env | sed -n 's/^ROOTLESS_HOME=//p')/results/rootless.xml; \
	if [ -f "$$report" ] && [ ! -L "$$report" ]; then cp "$$report" $(RESULTS)/rootless.xml; \
	else printf '$(ROOTLESS_REPORT)' "$$rc" > $(RESULTS)/rootless.xml; [ $$rc != 0 ] || rc=1; fi; \
	exit $$rc

rootless-down:  ## stop the rootless bed's session libvirtd and guests, remove its namespace and the user's libvirt state (the user and its venv stay)
	$(ROOTLESS) down

reliability: venv lab  ## bad inputs, the idempotence and check-mode matrix of every module, in the lab
	$(LAB) locked tests/reliability/run

molecule: venv lab  ## `molecule test` of extensions/molecule/default in the lab
	$(LAB) locked tests/molecule/run

ee: venv  ## ansible-builder accepts meta/execution-environment.yml
	mkdir -p $(RESULTS)
	if tests/ee/check; then r='<testcase name="ansible-builder create"/>'; \
	else r='<testcase name="ansible-builder create"><failure/></testcase>'; fi; \
	echo "<testsuite name=\"ee\">$$r</testsuite>" > $(RESULTS)/ee.xml

DEMO := examples/two-machines
demo: venv lab  ## the example two-machine lab up (private network, synced folder, provisioner), its status, how to SSH in; DEMO=examples/debian: one machine on the Debian 12 box
	case "$(DEMO)" in *debian*) $(LAB) box debian;; esac
	eval "$$($(LAB) env)" && $(LAB) exec $(BIN)/ansible-playbook -i $(DEMO)/lab.yml playbooks/up.yml
	eval "$$($(LAB) env)" && $(LAB) exec $(BIN)/ansible-playbook -i $(DEMO)/lab.yml playbooks/status.yml
	eval "$$($(LAB) env)" && $(LAB) exec $(BIN)/ansible-playbook -i $(DEMO)/lab.yml playbooks/ssh_config.yml \
	    -e ssh_config_file=$(CURDIR)/$(DEMO)/ssh_config
	@echo "demo: SSH in with: ip netns exec $$($(LAB) env | sed -n 's/^LAB_NS=//p') ssh -F $(DEMO)/ssh_config web"
	@echo "demo: tear it down with: make demo-down DEMO=$(DEMO)"

demo-down:  ## destroy the example lab
	eval "$$($(LAB) env)" && $(LAB) exec $(BIN)/ansible-playbook -i $(DEMO)/lab.yml playbooks/destroy.yml

summary:
	@$(BIN)/python tests/summary.py --checks-only integration units=$(RESULTS)/units.xml \
	    "sanity=$(RESULTS)/ansible-test-sanity-*.xml" lint=$(RESULTS)/lint.xml ee=$(RESULTS)/ee.xml \
	    smoke=$(RESULTS)/smoke.xml "integration=$(RESULTS)/integration/*.xml" e2e=$(RESULTS)/e2e.xml \
	    remote=$(RESULTS)/remote.xml rootless=$(RESULTS)/rootless.xml reliability=$(RESULTS)/reliability.xml molecule=$(RESULTS)/molecule.xml

# The Debian box (about 2 minutes, mostly download and unpacking) builds in the background while
# the first layers run; e2e's own `lab box debian` waits for it (a lock), or builds it if it failed.
test:  ## everything, with the lab; ends with the count of tests run
	rm -rf $(RESULTS)
	mkdir -p $(RESULTS)
	-$(MAKE) venv
	$(LAB) box debian > $(RESULTS)/debian-box.log 2>&1 &
	-$(MAKE) -k units sanity lint ee smoke integration e2e remote rootless reliability molecule
	$(MAKE) --no-print-directory summary

clean:  ## remove the venv copies and test output (not the lab cache)
	rm -rf $(BUILD) tests/output .pytest_cache

.PHONY: bench
bench: venv lab  ## vagrantless against vagrant-libvirt in the lab, ~22 min (BENCH_ARGS=--help): table, tests/benchmarks/results/latest.json
	$(LAB) box debian
	$(LAB) locked $(BIN)/python tests/benchmarks/bench.py $(BENCH_ARGS)
