#!/usr/bin/env bash
# Installs what the client tests need, once (called by the main build in generate-test-resources;
# skip with -Dclients.skip=true): the Node.js client's, the shell client's and the OpenAI SDK check's npm
# dependencies
# (lockfiles pinned) and the Java client's shaded jar. Without npm the Node/shell steps are skipped
# with a message and their tests skip too.
set -euo pipefail
cd "$(dirname "$0")"
if command -v npm >/dev/null 2>&1; then
  for d in node shell openai-node; do
    if [ ! -d "$d/node_modules" ]; then
      (cd "$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
  done
else
  echo "clients: npm not found; the Node.js and shell client tests will be skipped" >&2
fi
if [ ! -f java/target/pruneserve-java-client.jar ]; then
  ../mvnw -B -q -f java/pom.xml package
fi
