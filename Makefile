# log_monitor: the README's two commands are `make demo` and `make test`.
GO ?= go
BIN := bin/logmon

.PHONY: build demo demo-stop test stack-up stack-down stack-status generate bench clean

build:
	$(GO) build -o $(BIN) ./cmd/logmon

## demo: bring up the local stack (unless KAFKA_BROKERS is set), run the pipeline on the bundled sample, print where to look
demo: build
	./scripts/demo.sh

## demo-stop: stop what the demo left running (the console, the agent, the local stack)
demo-stop:
	./scripts/demo-stop.sh

## test: gofmt, go vet, unit and integration tests against real Kafka and Elasticsearch, short fuzzing
test:
	./scripts/test.sh

stack-up: build
	$(BIN) stack up
stack-down: build
	$(BIN) stack down
stack-status: build
	$(BIN) stack status

## generate: regenerate proto/ (gRPC, grpc-gateway, OpenAPI) with pinned protoc and plugins, and the console's bundle (npm ci, then esbuild)
generate:
	bash scripts/generate.sh
	npm ci --prefix console --no-audit --no-fund --loglevel=error
	cd console && npx --no-install tsc --noEmit -p .
	$(GO) run ./console/build

bench: build
	./benchmarks/run.sh

bench-index: build
	./benchmarks/index.sh

clean:
	rm -rf bin
