#!/usr/bin/env bash
# Calls any pruneserve RPC with buf curl over server reflection:
#   ./call.sh <package.Service/Method> '<request JSON>'
# e.g. ./call.sh inference.GRPCInferenceService/ServerReady '{}'
# Environment: PRUNESERVE_TARGET (default localhost:9000), PRUNESERVE_TOKEN (bearer token, optional).
# List every RPC: ./call.sh --list
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
buf="${here}/node_modules/.bin/buf"
[ -x "${buf}" ] || { echo "run 'npm ci' in ${here} first" >&2; exit 2; }
target="http://${PRUNESERVE_TARGET:-localhost:9000}"
auth=()
[ -n "${PRUNESERVE_TOKEN:-}" ] && auth=(-H "authorization: Bearer ${PRUNESERVE_TOKEN}")
if [ "${1:-}" = "--list" ]; then
  exec "${buf}" curl --protocol grpc --http2-prior-knowledge --list-methods "${target}"
fi
[ $# -eq 2 ] || { echo "usage: $0 <package.Service/Method> '<request JSON>' | --list" >&2; exit 2; }
exec "${buf}" curl --protocol grpc --http2-prior-knowledge "${auth[@]}" -d "$2" "${target}/$1"
