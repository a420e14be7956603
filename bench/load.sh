#!/usr/bin/env bash
# Load bench (issue 21): the packaged server in its own JVM, the Python load generator
# (clients/python/loadgen.py) in another process, over loopback. Prints the tables of
# docs/benchmarks.md ("Throughput under load"). Needs python3-grpcio and protoc (see clients/python).
# Usage: bench/load.sh [all|generate|single|infer]   (default all)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f target/quarkus-app/quarkus-run.jar ] || ./mvnw -B -q package -DskipTests -Dclients.skip=true
clients/python/gen_stubs.sh >/dev/null
repo=$(mktemp -d /tmp/pruneserve-load.XXXXXX)
log="${repo}.log"
server=""
stop() { [ -n "${server}" ] && kill "${server}" 2>/dev/null && wait "${server}" 2>/dev/null || true; server=""; }
trap 'stop; rm -rf "${repo}"' EXIT
start() {
  java -Dpruneserve.repository.path="${repo}" -jar target/quarkus-app/quarkus-run.jar >>"${log}" 2>&1 &
  server=$!
  /usr/bin/python3 - <<'PY'
import os, sys, time
sys.path.insert(0, "clients/python/gen")
import grpc
from inference import grpc_service_pb2 as inf, grpc_service_pb2_grpc as rpc
stub = rpc.GRPCInferenceServiceStub(grpc.insecure_channel("localhost:9000"))
for _ in range(600):
    try:
        if stub.ServerReady(inf.ServerReadyRequest(), timeout=1).ready:
            sys.exit(0)
    except grpc.RpcError:
        pass
    time.sleep(0.5)
sys.exit("server did not become ready")
PY
}
# 1. the default repository (stories15m, minilm, demo-mlp), then copies with other settings
start; stop
/usr/bin/python3 - "${repo}" <<'PY'
import json, os, shutil, sys
repo = sys.argv[1]
def variant(src, dst, **settings):
    shutil.copytree(os.path.join(repo, src), os.path.join(repo, dst))
    path = os.path.join(repo, dst, "config.json")
    config = json.load(open(path)) if os.path.exists(path) else {}
    config.update(settings)
    json.dump(config, open(path, "w"))
variant("stories15m", "stories15m-b1", generation={"max_batch": 1})
variant("stories15m", "stories15m-gathered", generation={"kv": "gathered"})
batcher = {"max_batch_size": 64, "dynamic_batching": {"max_queue_delay_microseconds": 0}}
variant("demo-mlp", "demo-mlp-batched", **batcher)
variant("minilm", "minilm-batched", **batcher)
PY
start
gen="/usr/bin/python3 clients/python/loadgen.py"
part="${1:-all}"
if [ "${part}" = all ] || [ "${part}" = generate ]; then
  echo "## generation (128 greedy tokens per stream, distinct prompts)"
  ${gen} generate --models stories15m,stories15m-b1
  echo "## KV layout: padded (default) vs gathered every step"
  ${gen} generate --models stories15m,stories15m-gathered --streams 1,16
fi
if [ "${part}" = all ] || [ "${part}" = single ]; then
  echo "## one stream at a time, interleaved rounds: the batching scheduler vs the batch-1 loop"
  ${gen} single --models stories15m,stories15m-b1 --rounds 20
fi
if [ "${part}" = all ] || [ "${part}" = infer ]; then
  echo "## ModelInfer, batch-1 requests, with and without the dynamic batcher"
  ${gen} infer --models demo-mlp,demo-mlp-batched
  ${gen} infer --models minilm,minilm-batched --seq 16
  ${gen} infer --models minilm,minilm-batched --seq 128
fi
