# AgentAuth — every developer command. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPM ?= npm
STAMP := node_modules/.agentauth-installed

.PHONY: help dev up down build migrate migrate-revert migrate-create db-setup run api worker test test-unit \
        test-integration lint format typecheck clean bench bench-ledger audit-verify rotate-keys sdk-types

help: ## Show all available commands
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(STAMP): package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	@touch $(STAMP)

dev: $(STAMP) ## Install dependencies (npm ci from the lock file)

up: ## Start PostgreSQL 16 and Redis 7 with docker compose (needs a Docker engine)
	docker compose -p agentauth-dev up -d --wait

down: ## Stop the docker compose services
	docker compose -p agentauth-dev down

.env:
	@cp .env.example .env && echo "created .env from .env.example (edit it for anything but local development)"

build: $(STAMP) ## Compile apps, libs, migrations and scripts to dist/
	$(NPM) run --silent build

# DATABASE_URL from the environment or .env; empty = the embedded mode (the API migrates PGlite itself).
DATABASE_URL_SET = $(shell bash scripts/database-url-set.sh)

# The database steps of db-setup, migrate and run (PostgreSQL/Redis mode only). `run` runs them itself after
# one build, instead of depending on db-setup and a recursive `make migrate` (which built a second time).
DB_SETUP_STEP = $(NPM) run --silent db:setup
MIGRATE_STEP = $(NPM) run --silent migrate

db-setup: build .env ## Create the database role and database from DATABASE_URL (skipped in the embedded mode)
	@if [ "$(DATABASE_URL_SET)" = yes ]; then $(DB_SETUP_STEP); \
	else echo "DATABASE_URL unset: embedded mode, no database to set up"; fi

migrate: build .env ## Apply pending migrations (the embedded mode migrates at API start-up)
	@if [ "$(DATABASE_URL_SET)" = yes ]; then $(MIGRATE_STEP); \
	else echo "DATABASE_URL unset: embedded mode, the API applies the migrations at start-up"; fi

migrate-revert: build .env ## Revert the last applied migration
	$(NPM) run --silent migrate:revert

migrate-create: build ## Create a new migration: make migrate-create NAME=add-something
	$(NPM) run --silent migration:create -- $(NAME)

audit-verify: build .env ## Walk the audit hash chain and name the first broken event (exit 2 if broken; embedded mode: asks the running API)
	@$(NPM) run --silent audit:verify

rotate-keys: build .env ## Rotate the token-signing keys now: enqueue the rotation job for the worker (needs DATABASE_URL and REDIS_URL)
	$(NPM) run --silent rotate-keys

run: build .env ## Start AgentAuth on :8000, or on PORT (embedded mode with nothing but Node; API + worker when DATABASE_URL/REDIS_URL are set)
	@if [ "$(DATABASE_URL_SET)" = yes ]; then $(DB_SETUP_STEP) && $(MIGRATE_STEP); fi
	@bash scripts/run-all.sh

api: build .env ## Start the API only (compiled)
	$(NPM) run --silent start:api

worker: build .env ## Start the worker only (compiled)
	$(NPM) run --silent start:worker

test: $(STAMP) lint typecheck test-unit test-integration ## Run the full suite: lint, typecheck, unit, integration

test-unit: $(STAMP) ## Unit tests only (pure logic, no I/O)
	$(NPM) run --silent test:unit

test-integration: $(STAMP) ## Integration tests (real PostgreSQL + Redis, then the embedded-mode project)
	$(NPM) run --silent test:integration
	$(NPM) run --silent test:embedded

lint: $(STAMP) ## ESLint (type-aware) and Prettier check
	$(NPM) run --silent lint

format: $(STAMP) ## Format code with Prettier and fix lint
	$(NPM) run --silent format

typecheck: $(STAMP) ## TypeScript type check (tsc --noEmit)
	$(NPM) run --silent typecheck

bench: build ## Benchmark the hot paths against real PostgreSQL + Redis (BENCH_WITH_PEER=1 adds oidc-provider)
	BENCH_SKIP_BUILD=1 node bench/run-bench.mjs

bench-ledger: build ## Cost ledger: the static route layer by layer over bare Nest-Express (LEDGER_ROUTE=introspect etc.: a hot endpoint, LEDGER_BASELINE_DIR: an A/B)
	BENCH_SKIP_BUILD=1 node bench/ledger.mjs

# The management client's types (libs/sdk/src/management/schema.generated.ts) from a running server's OpenAPI
# document; test/integration/sdk/management-types.spec.ts fails while they are stale.
AGENTAUTH_URL ?= http://localhost:8000
sdk-types: $(STAMP) ## Regenerate the SDK's management types from a running server's /docs-json (AGENTAUTH_URL, default :8000)
	@tmp=$$(mktemp) && trap 'rm -f "$$tmp"' EXIT && \
	  curl -fsS "$(AGENTAUTH_URL)/docs-json" -o "$$tmp" && \
	  node scripts/sdk-openapi-types.mjs "$$tmp" libs/sdk/src/management/schema.generated.ts && \
	  echo "wrote libs/sdk/src/management/schema.generated.ts from $(AGENTAUTH_URL)/docs-json"

clean: ## Remove build output
	rm -rf dist coverage .jest-logs libs/sdk/dist apps/cli/dist
