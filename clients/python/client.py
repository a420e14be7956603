#!/usr/bin/python3
"""pruneserve from Python (Debian python3-grpcio; stubs from ./gen_stubs.sh): one task per command,
one JSON object on stdout (progress and streamed text on stderr).

  client.py [--target host:port] [--token T] infer --model M [--batch 2]
  client.py generate --model M --prompt "..." [--max-new-tokens 32] [--seed 1]
  client.py prune --model M --method flap --ratio 0.2 [--request '{"calibration": {...}}']
  client.py variants [--model M]
  client.py alias --alias A --to TARGET [--expected CURRENT]
"""
import argparse
import json
import os
import struct
import sys

sys.path.insert(0, os.environ.get("PRUNESERVE_PY_STUBS", os.path.join(os.path.dirname(__file__), "gen")))

import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402
from inference import grpc_service_pb2 as inf  # noqa: E402
from inference import grpc_service_pb2_grpc as inf_rpc  # noqa: E402
from pruneserve.v1 import generation_pb2 as gen  # noqa: E402
from pruneserve.v1 import generation_pb2_grpc as gen_rpc  # noqa: E402
from pruneserve.v1 import pruning_pb2 as pr  # noqa: E402
from pruneserve.v1 import pruning_pb2_grpc as pr_rpc  # noqa: E402


def infer(ch, a, md):
    stub = inf_rpc.GRPCInferenceServiceStub(ch)
    meta = stub.ModelMetadata(inf.ModelMetadataRequest(name=a.model), metadata=md)
    inp = meta.inputs[0]
    width = inp.shape[-1]
    values = [0.01 * i for i in range(a.batch * width)]
    req = inf.ModelInferRequest(model_name=a.model, id="py-1")
    req.inputs.add(name=inp.name, datatype="FP32", shape=[a.batch, width])
    req.raw_input_contents.append(struct.pack("<%df" % len(values), *values))
    resp = stub.ModelInfer(req, metadata=md)
    outputs = {o.name: {"shape": list(o.shape), "datatype": o.datatype,
                        "data": list(struct.unpack("<%df" % (len(raw) // 4), raw))}
               for o, raw in zip(resp.outputs, resp.raw_output_contents)}
    return {"model": resp.model_name, "id": resp.id, "outputs": outputs}


def generate(ch, a, md):
    params = gen.SamplingParams(max_new_tokens=a.max_new_tokens)
    if a.seed is not None:
        params.seed = a.seed
    text, tokens, finish = "", 0, ""
    for ev in gen_rpc.GenerationStub(ch).Generate(gen.GenerateRequest(model=a.model, prompt=a.prompt,
                                                                      params=params), metadata=md):
        if ev.HasField("token"):
            tokens += 1
            text += ev.token.text
            sys.stderr.write(ev.token.text)
            sys.stderr.flush()
        else:
            text += ev.summary.trailing_text
            finish = gen.FinishReason.Name(ev.summary.finish_reason)
    sys.stderr.write("\n")
    return {"text": text, "tokens": tokens, "finish_reason": finish}


def prune(ch, a, md):
    req = json_format.Parse(a.request or "{}", pr.PruneRequest())
    req.model, req.method, req.ratio = a.model, a.method, a.ratio
    phases = []
    for ev in pr_rpc.PruningStub(ch).Prune(req, metadata=md):
        if ev.HasField("progress"):
            p = ev.progress
            if not phases or phases[-1] != p.phase:
                phases.append(p.phase)
            done = round(30 * p.fraction)
            sys.stderr.write("\r[%s%s] %3.0f%% %-12s" % ("#" * done, "." * (30 - done), 100 * p.fraction, p.phase))
        elif ev.HasField("done"):
            sys.stderr.write("\n")
            return {"job_id": ev.job_id, "variant": ev.done.name, "reused": ev.done.reused, "phases": phases}
    raise RuntimeError("the Prune stream ended without a done event")


def variants(ch, a, md):
    resp = pr_rpc.PruningStub(ch).ListVariants(pr.ListVariantsRequest(model=a.model or ""), metadata=md)
    return {"variants": [{"name": v.name, "parent": v.parent_model, "recipe": json.loads(v.recipe_json or "{}")}
                         for v in resp.variants]}


def alias(ch, a, md):
    req = pr.SetAliasRequest(alias=a.alias, target=a.to)
    if a.expected is not None:
        req.expected_current = a.expected
    r = pr_rpc.PruningStub(ch).SetAlias(req, metadata=md)
    return {"alias": r.alias, "target": r.target}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="localhost:9000")
    ap.add_argument("--token")
    ap.add_argument("command", choices=["infer", "generate", "prune", "variants", "alias"])
    for flag in ["--model", "--prompt", "--method", "--request", "--alias", "--to", "--expected"]:
        ap.add_argument(flag)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--ratio", type=float)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--seed", type=int)
    a = ap.parse_args()
    md = [("authorization", "Bearer " + a.token)] if a.token else None
    opts = [("grpc.max_receive_message_length", 256 << 20), ("grpc.max_send_message_length", 256 << 20)]
    with grpc.insecure_channel(a.target, options=opts) as ch:
        try:
            print(json.dumps(globals()[a.command](ch, a, md)))
        except grpc.RpcError as e:
            sys.stderr.write("error: %s: %s\n" % (e.code().name, e.details()))
            sys.exit(1)


if __name__ == "__main__":
    main()
