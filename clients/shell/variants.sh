#!/usr/bin/env bash
# List variants (of one parent model, or all): ./variants.sh [model]
set -euo pipefail
exec "$(dirname "$0")/call.sh" pruneserve.v1.Pruning/ListVariants "{\"model\":\"${1:-}\"}"
