#!/usr/bin/env bash
# Streaming generation (one JSON message per token, then the summary):
#   ./generate.sh <model> '<prompt>' [max_new_tokens] [seed]
set -euo pipefail
exec "$(dirname "$0")/call.sh" pruneserve.v1.Generation/Generate \
  "{\"model\":\"$1\",\"prompt\":\"$2\",\"params\":{\"max_new_tokens\":${3:-32},\"seed\":\"${4:-1}\"}}"
