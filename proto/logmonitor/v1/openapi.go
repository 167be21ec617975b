package logmonitorv1

import _ "embed"

// OpenAPI is the OpenAPI (Swagger 2.0) document of the REST API, generated
// from logmonitor.proto by protoc-gen-openapiv2 (scripts/generate.sh).
//
//go:embed logmonitor.swagger.json
var OpenAPI []byte
