#!/usr/bin/env bash
# Regenerates the API's code from proto/ (what `make generate` runs).
#
# Pinned tools, nothing downloaded is committed:
#   protoc            com.google.protobuf:protoc:$PROTOC_VERSION (Maven Central)
#   well-known types  com.google.protobuf:protobuf-java:$PROTOC_VERSION (its .proto files)
#   google/api/*.proto com.google.api.grpc:proto-google-common-protos:$COMMON_PROTOS_VERSION
#   protoc-gen-go, protoc-gen-go-grpc, protoc-gen-grpc-gateway, protoc-gen-openapiv2:
#                     the `tool` directives of go.mod (go tool ...)
# Downloads go to $LOGMON_GEN_CACHE (default $LOGMON_STACK_DIR/cache/protoc,
# i.e. /var/tmp/logmon-stack/cache/protoc), outside the repository.
set -euo pipefail

PROTOC_VERSION=4.33.2
COMMON_PROTOS_VERSION=2.59.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${LOGMON_GEN_CACHE:-${LOGMON_STACK_DIR:-/var/tmp/logmon-stack}/cache/protoc}"
mkdir -p "$cache"

fetch() { # groupId:artifactId:version[:type:classifier] -> $cache
  mvn -q -B dependency:copy -Dartifact="$1" -DoutputDirectory="$cache" -Dmdep.overWriteIfNewer=true >&2
}

protoc="$cache/protoc-$PROTOC_VERSION-linux-x86_64.exe"
[ -x "$protoc" ] || { [ -f "$protoc" ] || fetch "com.google.protobuf:protoc:$PROTOC_VERSION:exe:linux-x86_64"; chmod +x "$protoc"; }

inc="$cache/include-$PROTOC_VERSION-$COMMON_PROTOS_VERSION"
if [ ! -f "$inc/google/api/annotations.proto" ] || [ ! -f "$inc/google/protobuf/struct.proto" ]; then
  jar_wkt="$cache/protobuf-java-$PROTOC_VERSION.jar"
  jar_api="$cache/proto-google-common-protos-$COMMON_PROTOS_VERSION.jar"
  [ -f "$jar_wkt" ] || fetch "com.google.protobuf:protobuf-java:$PROTOC_VERSION"
  [ -f "$jar_api" ] || fetch "com.google.api.grpc:proto-google-common-protos:$COMMON_PROTOS_VERSION"
  rm -rf "$inc.tmp" && mkdir -p "$inc.tmp"
  (cd "$inc.tmp" && unzip -q -o "$jar_wkt" 'google/protobuf/*.proto' && unzip -q -o "$jar_api" 'google/api/*.proto')
  rm -rf "$inc" && mv "$inc.tmp" "$inc"
fi

# The Go plugins, built from go.mod's pinned tool versions.
bin="$cache/bin-$(cd "$root" && go list -m -f '{{.Version}}' google.golang.org/protobuf)"
mkdir -p "$bin"
(cd "$root" && go build -o "$bin/" \
  google.golang.org/protobuf/cmd/protoc-gen-go \
  google.golang.org/grpc/cmd/protoc-gen-go-grpc \
  github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway \
  github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2)

cd "$root/proto"
PATH="$bin:$PATH" "$protoc" -I . -I "$inc" \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  --grpc-gateway_out=. --grpc-gateway_opt=paths=source_relative \
  --openapiv2_out=. --openapiv2_opt=json_names_for_fields=false \
  logmonitor/v1/logmonitor.proto
echo "generated: $(cd "$root" && ls proto/logmonitor/v1 | tr '\n' ' ')"
