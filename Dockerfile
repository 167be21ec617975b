# syntax=docker/dockerfile:1
#
# log_monitor's one image: the `logmon` binary, every component a subcommand
# (docker-compose.yml runs `logmon ingest`, `logmon process`, ...).
#
#   docker build -t logmon:local .
#   docker run --rm logmon:local topics -brokers host.docker.internal:9092
#
# deploy/compose_test.go checks that the build stage's Go major.minor matches
# go.mod's go directive and that the binary is built from ./cmd/logmon.

# Go of the build stage: go.mod's major.minor. A golang:1.26 image older than
# go.mod's patch release fetches that toolchain by itself (GOTOOLCHAIN=auto).
ARG GO_VERSION=1.26

############################ build ############################
# Runs on the builder's own platform and cross-compiles (no cgo), so a
# multi-arch build (docker buildx --platform linux/amd64,linux/arm64) needs no
# emulation.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src

# Modules first: this layer stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
# Static binary: no cgo, no local paths in it (-trimpath), the IANA time zone
# database built in (-tags timetzdata) so SOURCE_TZ=Asia/Seoul works on any
# base image.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -tags timetzdata -ldflags="-s -w" -o /out/logmon ./cmd/logmon

############################ runtime ############################
# debian-slim rather than distroless: the compose healthchecks run curl
# against each component's /healthz (LOGMON_METRICS_ADDR, port 9464).
FROM debian:bookworm-slim AS runtime

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl tzdata \
 && rm -rf /var/lib/apt/lists/*

# A fixed, non-root uid/gid (10001): files it writes on bind mounts and named
# volumes keep the same owner across rebuilds.
#   /data            logs to tail (mount the servers' logs here, read-only)
#   /var/lib/logmon  the component's state: tail offsets, goka storage
#                    (LOGMON_DATA_DIR). Owned by logmon in the image, so a
#                    new named volume mounted here starts owned by logmon too.
RUN groupadd --system --gid 10001 logmon \
 && useradd --system --uid 10001 --gid logmon --no-create-home \
        --home-dir /var/lib/logmon --shell /usr/sbin/nologin logmon \
 && mkdir -p /data /var/lib/logmon \
 && chown logmon:logmon /var/lib/logmon

COPY --from=build /out/logmon /usr/local/bin/logmon

# Defaults for a container; docker-compose.yml sets them too. The metrics and
# /healthz server listens on every interface so a healthcheck or Prometheus
# can reach it.
ENV LOGMON_DATA_DIR=/var/lib/logmon \
    LOGMON_METRICS_ADDR=0.0.0.0:9464

VOLUME ["/data", "/var/lib/logmon"]
WORKDIR /var/lib/logmon
USER 10001:10001

# 8080 REST (grpc-gateway), 9090 gRPC (logmon api); 9464 /metrics + /healthz.
EXPOSE 8080 9090 9464

ENTRYPOINT ["logmon"]
