# ShopFlow Analytics. The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
SHOPFLOW := $(BIN)/shopflow

.PHONY: demo test test-reliability test-volume install db-start db-stop lint format pytest \
	dbt-build docs ci-slim clean

## demo: install, start the local database and run the whole pipeline
demo: install db-start
	$(SHOPFLOW) run

## test: lint (ruff, sqlfluff, dbt project rules), the DAG's import tests and every test (pytest, incl. the real dbt build)
test: install db-start browser lint test-dag pytest

## browser: headless Chromium for the report's browser test (tests/pipeline/test_report.py)
.PHONY: browser
browser:
	@command -v chromium >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null && echo sudo ); \
		export DEBIAN_FRONTEND=noninteractive; \
		$$SUDO apt-get install -y chromium || ($$SUDO apt-get update && $$SUDO apt-get install -y chromium); \
	}

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

db-start: install
	$(SHOPFLOW) db start

# tests and benchmarks throw their databases away: they ask for fast mode (fsync off) explicitly
.PHONY: db-start-fast
db-start-fast: install
	$(SHOPFLOW) db start --fast

db-stop: install
	$(SHOPFLOW) db stop

# the models only Spark builds (off on Postgres in dbt_project.yml): their own sqlfluff pass
SPARK_ONLY_MODELS := dbt_project/models/staging/storefront/stg_storefront__product_versions.sql

# each step says what it is and its usual time first (measured in CI on 2 cores): the quiet
# ones run for a minute without printing
lint: install db-start
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@echo "lint: mypy on ingestion/ (about 45 s; prints only its verdict)"
	$(BIN)/mypy ingestion
	@echo "lint: sqlfluff with the dbt templater on every model and test (about 1 min)"
	$(BIN)/sqlfluff lint dbt_project $(wildcard tests/dbt)
	$(BIN)/sqlfluff lint --config .sqlfluff-spark $(SPARK_ONLY_MODELS)
	@echo "lint: the project's own rules on the dbt manifest (about 10 s)"
	$(SHOPFLOW) check-project

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/sqlfluff fix dbt_project $(wildcard tests/dbt)
	$(BIN)/sqlfluff fix --config .sqlfluff-spark $(SPARK_ONLY_MODELS)

pytest: install db-start-fast
	$(BIN)/pytest -m "not reliability and not volume and not spark and not orchestration and not features"

## test-reliability: the fault-injection suite (docs/reliability.md); .ci/run runs it after make test,
## with test-volume, test-orchestration and deploy-check beside it
test-reliability: install db-start-fast
	$(BIN)/pytest -m reliability

## test-volume: incremental builds equal a full refresh on a scale-10 world; .ci/run runs it beside
## test-reliability, then test-orchestration
test-volume: install db-start-fast
	$(BIN)/pytest -m volume

# --- Spark (docs/scale-out.md): dbt-spark and pyspark in the project's venv, on demand
.PHONY: spark test-spark

## spark: add dbt-spark (session) and pyspark to the project's venv (needs Java 17)
spark: $(VENV)/.spark-installed

$(VENV)/.spark-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev,spark]"
	touch $@

## test-spark: build the dbt project on Spark from the lake and compare every mart with Postgres
test-spark: spark db-start-fast
	$(BIN)/pytest -m spark

dbt-build: install db-start
	$(BIN)/dbt build

## ci-slim: lint changed SQL, build only changed models and their children (deferring to the last run)
ci-slim: install db-start
	$(SHOPFLOW) ci-slim

## docs: generate the dbt docs and serve them on http://127.0.0.1:8080 (Ctrl-C stops)
docs: install db-start
	$(SHOPFLOW) docs

clean: db-stop
	rm -rf target logs

# --- Airflow (docs/orchestration.md): its own virtualenv, its metadata in SQLite under .shopflow/
AIRFLOW_VENV := .venv-airflow
AIRFLOW_ENV := AIRFLOW_HOME=$(CURDIR)/.shopflow/airflow \
	AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/orchestration/airflow/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False

.PHONY: airflow test-orchestration

## airflow: Airflow in .venv-airflow (pinned in orchestration/airflow/requirements.txt), its SQLite metadata DB migrated
airflow: $(AIRFLOW_VENV)/.installed
	mkdir -p .shopflow/airflow
	$(AIRFLOW_ENV) $(AIRFLOW_VENV)/bin/airflow db migrate > .shopflow/airflow/db-migrate.log 2>&1

$(AIRFLOW_VENV)/.installed: orchestration/airflow/requirements.txt
	test -x $(AIRFLOW_VENV)/bin/python || $(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet -r orchestration/airflow/requirements.txt
	touch $@

## test-dag: the shopflow_daily DAG imports and has its tasks, retries and callbacks (Airflow venv; part of make test)
.PHONY: test-dag
test-dag: airflow
	$(AIRFLOW_ENV) $(AIRFLOW_VENV)/bin/python -m pytest tests/orchestration/test_airflow_dag.py \
		-p no:cacheprovider --noconftest

## test-orchestration: `airflow dags test shopflow_daily` runs the real pipeline; its marts equal `shopflow run`'s
# (Airflow's virtualenv only: the test migrates a metadata DB of its own, not .shopflow/airflow's)
test-orchestration: $(AIRFLOW_VENV)/.installed install db-start-fast
	$(BIN)/pytest -m orchestration tests/orchestration

# --- Feast (docs/features.md): its own virtualenv (feast 0.67 wants pandas 2, the project pandas 3);
# `shopflow features ...` runs features/feast_tasks.py in it
FEAST_VENV := .venv-feast

.PHONY: feast test-features

## feast: Feast in .venv-feast (pinned in features/requirements.txt), rebuilt only when the pins change
feast: $(FEAST_VENV)/.installed

$(FEAST_VENV)/.installed: features/requirements.txt
	test -x $(FEAST_VENV)/bin/python || $(PYTHON) -m venv $(FEAST_VENV)
	$(FEAST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FEAST_VENV)/bin/python -m pip install --quiet -r features/requirements.txt
	touch $@

## test-features: training sets equal an independent as-of computation from the raw tables, the online
## store equals the latest offline values, an erased customer leaves it (a small world of its own)
test-features: feast install db-start-fast
	$(BIN)/pytest -m features tests/features

# --- Deployment checks (docs/deployment.md): offline, checkov in its own .venv-deploy
.PHONY: deploy-check

## deploy-check: checkov on deploy/ (kubernetes, dockerfile, terraform), tests/deploy, terraform fmt if installed
deploy-check: install
	@.venv-deploy/bin/checkov --version 2>/dev/null | grep -qx 3.3.30 || { \
		rm -rf .venv-deploy && $(PYTHON) -m venv .venv-deploy \
		&& .venv-deploy/bin/python -m pip install --quiet checkov==3.3.30; }
	.venv-deploy/bin/checkov -d deploy --config-file deploy/.checkov.yaml \
		--framework kubernetes dockerfile terraform --quiet --compact --skip-download
	$(BIN)/pytest tests/deploy -q -p no:cacheprovider
	@if command -v kubectl >/dev/null; then \
		echo "kubectl kustomize deploy/kubernetes" && kubectl kustomize deploy/kubernetes > /dev/null; \
	else echo "kustomize render: skipped (no kubectl on PATH)"; fi
	@if command -v terraform >/dev/null; then \
		echo "terraform fmt -check -recursive deploy/terraform" \
		&& terraform fmt -check -recursive -diff deploy/terraform; \
	else echo "terraform fmt: skipped (no terraform binary on PATH; validate and plan need the AWS provider downloaded, see docs/deployment.md)"; fi
