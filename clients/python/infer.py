#!/usr/bin/python3
"""Calls ServerReady, ModelMetadata and ModelInfer (raw FP32) on a pruneserve server.

Usage: /usr/bin/python3 clients/python/infer.py [--target localhost:9000] [--model demo-mlp]
Prints one JSON object: readiness, the model's metadata and the outputs as float lists.
The input is x[b, i] = 0.01 * (b * width + i) for a batch of 2, so results are reproducible.
Run ./gen_stubs.sh first (stubs land in clients/python/gen).
"""
import argparse
import json
import os
import struct
import sys

sys.path.insert(0, os.environ.get("PRUNESERVE_PY_STUBS", os.path.join(os.path.dirname(__file__), "gen")))

import grpc  # noqa: E402  (Debian python3-grpcio)
from inference import grpc_service_pb2 as pb  # noqa: E402
from inference import grpc_service_pb2_grpc as rpc  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="localhost:9000")
    ap.add_argument("--model", default="demo-mlp")
    ap.add_argument("--batch", type=int, default=2)
    args = ap.parse_args()

    opts = [("grpc.max_receive_message_length", 256 << 20), ("grpc.max_send_message_length", 256 << 20)]
    with grpc.insecure_channel(args.target, options=opts) as channel:
        stub = rpc.GRPCInferenceServiceStub(channel)
        ready = stub.ServerReady(pb.ServerReadyRequest()).ready
        meta = stub.ModelMetadata(pb.ModelMetadataRequest(name=args.model))
        inp = meta.inputs[0]
        width = inp.shape[-1]
        values = [0.01 * i for i in range(args.batch * width)]
        req = pb.ModelInferRequest(model_name=args.model, id="py-1")
        req.inputs.add(name=inp.name, datatype="FP32", shape=[args.batch, width])
        req.raw_input_contents.append(struct.pack("<%df" % len(values), *values))
        resp = stub.ModelInfer(req)
        outputs = {}
        for out, raw in zip(resp.outputs, resp.raw_output_contents):
            outputs[out.name] = {"shape": list(out.shape), "datatype": out.datatype,
                                 "data": list(struct.unpack("<%df" % (len(raw) // 4), raw))}
        print(json.dumps({
            "ready": ready,
            "model": meta.name,
            "versions": list(meta.versions),
            "platform": meta.platform,
            "inputs": [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in meta.inputs],
            "id": resp.id,
            "outputs": outputs,
        }))


if __name__ == "__main__":
    main()
