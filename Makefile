# log_monitor: the README's two commands are `make demo` and `make test`.
GO ?= go
BIN := bin/logmon

.PHONY: build demo test stack-up stack-down stack-status generate bench clean

build:
	$(GO) build -o $(BIN) ./cmd/logmon

## demo: bring up the local stack (unless KAFKA_BROKERS is set), run the pipeline on the bundled sample, print where to look
demo: build
	./scripts/demo.sh

## test: gofmt, go vet, unit and integration tests against real Kafka and Elasticsearch, short fuzzing
test:
	./scripts/test.sh

stack-up: build
	$(BIN) stack up
stack-down: build
	$(BIN) stack down
stack-status: build
	$(BIN) stack status

## generate: regenerate proto/ (gRPC, grpc-gateway, OpenAPI) with pinned protoc and plugins
generate:
	bash scripts/generate.sh

bench: build
	./benchmarks/run.sh

bench-index: build
	./benchmarks/index.sh

clean:
	rm -rf bin
