.PHONY: run test stop lint bench soak first-hour
run:   ## Latchkey on http://127.0.0.1:8000 with the local services
	scripts/run.sh
test:  ## every test, against real services
	scripts/test.sh
stop:  ## stop the dev, test, bench and soak stacks
	scripts/stack.sh stop dev; scripts/stack.sh stop test; scripts/stack.sh stop bench; scripts/stack.sh stop soak
bench: ## benchmarks against real services; prints name=value lines
	@bench/run.sh
soak:  ## faults injected under user load (SOAK_MINUTES, default 10); invariants checked from outside
	@bench/soak.sh
first-hour: ## time a newcomer's make run on a fresh Debian root, to a working key
	@bench/first_hour.sh
lint:  ## ruff, the formatter, mypy and the import layers (pyproject.toml)
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && LATCHKEY_DEBUG=1 .venv/bin/mypy && LATCHKEY_DEBUG=1 .venv/bin/lint-imports
