#!/usr/bin/env bash
# Prune and stream progress events until `done`: ./prune.sh <model> <method> <ratio> ['<extra fields JSON>']
# e.g. ./prune.sh stories15m flap 0.2 '"calibration":{"self_samples":{"count":16}}'
set -euo pipefail
extra="${4:-}"
exec "$(dirname "$0")/call.sh" pruneserve.v1.Pruning/Prune \
  "{\"model\":\"$1\",\"method\":\"$2\",\"ratio\":$3${extra:+,${extra}}}"
