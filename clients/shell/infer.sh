#!/usr/bin/env bash
# ModelInfer with typed FP32 contents: ./infer.sh <model> <input name> '<shape JSON>' '<values JSON>'
# e.g. ./infer.sh demo-mlp x '[1,16]' '[0,0.01,0.02,0.03,0.04,0.05,0.06,0.07,0.08,0.09,0.1,0.11,0.12,0.13,0.14,0.15]'
set -euo pipefail
exec "$(dirname "$0")/call.sh" inference.GRPCInferenceService/ModelInfer \
  "{\"model_name\":\"$1\",\"inputs\":[{\"name\":\"$2\",\"datatype\":\"FP32\",\"shape\":$3,\"contents\":{\"fp32_contents\":$4}}]}"
