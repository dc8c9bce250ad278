# Relacja — two commands: `make run` (the whole suite locally) and `make test`.
# Needs only python3 (3.11) and make; everything else is installed into .tools/ and .venv/.

UV_VERSION ?= 0.13.9
TOOLS      := .tools
UV         := $(TOOLS)/bin/uv
# uv uses the machine's Python 3.11 and never downloads an interpreter.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON ?= python3.11

.PHONY: help run test test-unit lint token contracts sync bench bench-relay bench-latency bench-memory bench-gateway bench-customers bench-churn bench-tickets bench-orders bench-segmentation wrk browser promtool status clean images base-image test-images bench-webhooks bench-sharing bench-loyalty bench-recommendations bench-sales test-faults test-faults-ci audit bench-idle bench-batch-consumers bench-catch-up bench-write-path soak bench-engagement

help:
	@echo "make run        start PostgreSQL, the broker, every service and the gateway (Ctrl+C stops)"
	@echo "make test       the whole test suite against its own stack (ports beside make run)"
	@echo "make test-unit  unit tests only (no database, no broker)"
	@echo "make lint       ruff (lint + format check), mypy, import-linter contracts, pip-audit over uv.lock"
	@echo "make token      print a local admin bearer token (SCOPES=\"customers:read ...\" TTL=3600)"
	@echo "make contracts  regenerate the AsyncAPI document and event JSON Schemas"
	@echo "make bench      every benchmark (figures are recorded by hand in docs/benchmarks.md)"
	@echo "make images     build every service's container image with podman (installed if missing)"
	@echo "make base-image the Python base image from Debian's packages, for machines without a registry"
	@echo "make test-images run every image hardened, as an operator would, against the local stack's PostgreSQL and broker"
	@echo "make test-faults    every fault scenario (tests/faults) → docs/reliability.md, and the security suite in full (docs/security.md)"
	@echo "make test-faults-ci their bounded subset, as .ci/run runs it"
	@echo "make soak       30 minutes at 50 orders/s plus background traffic (figures: docs/benchmarks.md)"
	@echo "make clean      remove local state (.state/): databases and logs"

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

sync: $(UV)
	$(UV) sync --frozen --quiet

run: sync
	$(UV) run --frozen python -m relacja_devstack run --profile dev

test: sync browser promtool
	$(UV) run --frozen pytest

test-unit: sync
	$(UV) run --frozen pytest tests/unit

# Issue 20. The fault scenarios run on a stack of their own (the test profile with the fault
# proxies on; tests/faults/conftest.py), so `make test` never collects tests/faults.
# test-faults: every scenario, the strict timing figures, and docs/reliability.md rewritten.
# test-faults-ci: the bounded subset (marker faults_ci) .ci/run runs; its report goes to .state/.
FAULTS_PYTEST := $(UV) run --frozen pytest -p no:cacheprovider
# Both also run the security suite (tests/security; docs/security.md): the full run adds the
# 1 GiB upload and schemathesis with every check and the stateful phase (tests/security/full).
test-faults: sync
	RELACJA_FAULTS_STRICT=1 RELACJA_FAULTS_REPORT=docs/reliability.md $(FAULTS_PYTEST) tests/faults tests/unit/devstack/test_faultproxy.py
	RELACJA_SECURITY_FULL=1 $(FAULTS_PYTEST) tests/security

test-faults-ci: sync
	$(FAULTS_PYTEST) tests/unit/devstack/test_faultproxy.py
	$(FAULTS_PYTEST) -m faults_ci tests/faults
	$(FAULTS_PYTEST) tests/security

# 30 minutes at 50 orders/s plus background traffic; not in CI. MINUTES=5 for a shorter run.
MINUTES ?= 30
soak: sync
	$(UV) run --frozen python -m bench.soak --minutes $(MINUTES)

# Static checks; configuration in pyproject.toml ([tool.ruff], [tool.mypy], [tool.importlinter]).
# Every tool runs even when an earlier one fails, so one run shows every finding; the target
# fails if any of them did.
lint: sync
	@status=0; \
	$(UV) run --frozen ruff check . || status=1; \
	$(UV) run --frozen ruff format --check --output-format concise . || status=1; \
	$(UV) run --frozen mypy || status=1; \
	$(UV) run --frozen lint-imports || status=1; \
	$(UV) run --frozen python -m tests.security.audit || status=1; \
	exit $$status

# Known vulnerabilities in uv.lock (pip-audit; decisions in tests/security/audit-decisions.toml).
audit: sync
	$(UV) run --frozen python -m tests.security.audit

SCOPES ?= admin
TTL ?= 3600
token: sync
	@$(UV) run --frozen python -m relacja_devstack token --profile dev --scopes "$(SCOPES)" --ttl $(TTL)

status: sync
	$(UV) run --frozen python -m relacja_devstack status --profile dev

contracts: sync
	$(UV) run --frozen python -m relacja_contracts.asyncapi

bench: bench-relay bench-latency bench-memory bench-gateway bench-customers bench-churn bench-tickets bench-orders bench-segmentation bench-webhooks bench-sharing bench-loyalty bench-recommendations bench-sales bench-idle bench-batch-consumers bench-catch-up bench-write-path bench-engagement

bench-relay: sync
	$(UV) run --frozen python -m bench.relay_throughput

bench-latency: sync
	$(UV) run --frozen python -m bench.e2e_latency

bench-memory: sync
	$(UV) run --frozen python -m bench.idle_memory

# Issue #18: idle-stack CPU (60 s, every process) and the event latency at 200 events/s.
bench-idle: sync
	$(UV) run --frozen python -m bench.idle_memory --idle 60
	$(UV) run --frozen python -m bench.e2e_latency --rate 200 --duration 30

bench-gateway: sync wrk
	$(UV) run --frozen python -m bench.gateway_overhead

bench-customers: sync
	$(UV) run --frozen python -m bench.customers_master

bench-segmentation: sync
	$(UV) run --frozen python -m bench.segmentation

bench-webhooks: sync
	$(UV) run --frozen python -m bench.webhook_delivery

bench-recommendations: sync
	$(UV) run --frozen python -m bench.recommendations

bench-churn: sync
	$(UV) run --frozen python -m bench.churn_models
	$(UV) run --frozen python -m bench.churn_live
bench-loyalty: sync
	$(UV) run --frozen python -m bench.loyalty

bench-engagement: sync
	$(UV) run --frozen python -m bench.engagement
bench-tickets: sync
	$(UV) run --frozen python -m bench.tickets_sla

# ARGS="--opportunities 250000 --activities 1250000" for a smaller run
bench-sales: sync
	$(UV) run --frozen python -m bench.sales_pipeline $(ARGS)
bench-batch-consumers: sync
	$(UV) run --frozen python -m bench.batch_consumers $(ARGS)
bench-orders: sync wrk
	$(UV) run --frozen python -m bench.orders
	$(UV) run --frozen python -m bench.orders --import-only
	$(UV) run --frozen python -m bench.orders --coupons --paced-rate 20 --paced-seconds 20 --sustained-seconds 20 --concurrency 8 --rounds 3
bench-catch-up: sync
	$(UV) run --frozen python -m bench.catch_up $(ARGS)

bench-write-path: sync wrk
	$(UV) run --frozen python -m bench.write_path $(ARGS)

bench-sharing: sync
	$(UV) run --frozen python -m bench.sharing_feed

# The gateway benchmark drives load with wrk (Debian package), installed when missing.
wrk:
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

# tests/e2e/test_docs_browser.py opens /docs in a real headless browser: Debian's chromium,
# installed when missing (the test fails, never skips, without it).
# Container images of every service and the gateway (podman; installed when missing), and
# the check that runs them as an operator would. See deploy/images/images.sh and deploy/README.md.
images: sync
	deploy/images/images.sh build

base-image:
	deploy/images/images.sh base-image

# The builder stages stay until the end, so the compose check's `docker compose up --build`
# builds from the layer cache; `images.sh compose` adds what the README's `docker compose`
# commands need on a machine with podman and no registry (Compose, the stand-ins).
test-images: sync
	deploy/images/images.sh build --keep-cache
	deploy/images/images.sh compose
	$(UV) run --frozen pytest -p no:cacheprovider deploy/images/test_images.py deploy/images/test_compose.py; \
		status=$$?; deploy/images/images.sh prune; exit $$status

# promtool checks and unit-tests the alert rules (tests/e2e/test_observability.py).
promtool:
	@command -v promtool >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus)

browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium)

clean:
	rm -rf .state
