#!/usr/bin/env bash
# Generates Python stubs for pruneserve's protos into clients/python/gen (or $1).
# Needs Debian's protobuf-compiler and protobuf-compiler-grpc.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-${here}/gen}"
proto="${here}/../../proto"
mkdir -p "${out}"
protoc -I "${proto}" --python_out="${out}" --grpc_out="${out}" \
  --plugin=protoc-gen-grpc="$(command -v grpc_python_plugin)" \
  $(cd "${proto}" && find inference pruneserve -name '*.proto')
