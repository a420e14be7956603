#!/usr/bin/env bash
# Point an alias at a model or variant: ./alias.sh <alias> <target> [expected current target]
set -euo pipefail
cas=""
[ $# -ge 3 ] && cas=",\"expected_current\":\"$3\""
exec "$(dirname "$0")/call.sh" pruneserve.v1.Pruning/SetAlias "{\"alias\":\"$1\",\"target\":\"$2\"${cas}}"
