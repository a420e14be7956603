#!/usr/bin/python3
"""Load generator for pruneserve, run in its own process (not the server's JVM). Prints one table
per part, each measured side by side in this run:

  loadgen.py [--target host:port] generate --models stories15m,stories15m-b1 [--streams 1,4,16,64]
  loadgen.py infer --models demo-mlp,demo-mlp-batched [--clients 1,32] [--seq 16]
  loadgen.py single --models stories15m,stories15m-b1 [--rounds 20]

generate: every stream is one client (its own channel) running `--rounds` streaming Generate calls
of `--tokens` greedy tokens from distinct prompts; aggregate tok/s = all tokens / wall time; TTFT
and inter-token latency (ITL) measured at the client; ratio = aggregate / the same model's 1-stream
figure. infer: each client sends batch-1 ModelInfer requests back to back for `--seconds`;
overhead = client p50 / the server's own mean compute time (ModelStatistics) for that model.
single: one stream at a time, the models interleaved round by round (ABAB…, then BA…, so warm-up
and machine drift fall on every model alike); per model the median, min and max tok/s over the
rounds, and the ratio of each median to the last model's (the reference, e.g. the batch-1 loop).
"""
import argparse
import os
import struct
import sys
import threading
import time

sys.path.insert(0, os.environ.get("PRUNESERVE_PY_STUBS", os.path.join(os.path.dirname(__file__), "gen")))

import grpc  # noqa: E402
from inference import grpc_service_pb2 as inf  # noqa: E402
from inference import grpc_service_pb2_grpc as inf_rpc  # noqa: E402
from pruneserve.v1 import generation_pb2 as gen  # noqa: E402
from pruneserve.v1 import generation_pb2_grpc as gen_rpc  # noqa: E402

SUBJECTS = ["a little girl", "a brave dog", "a tiny bird", "an old man", "a happy cat", "a big bear",
            "a small boy", "a red fox"]
PLACES = ["in the park", "by the sea", "in a forest", "on a farm", "in the sky", "under a tree",
          "in a castle", "at school"]


def prompt(i):
    return "Once upon a time, %s lived %s. Story %d:" % (SUBJECTS[i % 8], PLACES[(i // 8) % 8], i)


def pct(xs, p):
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def run_threads(n, body):
    out = [None] * n
    threads = [threading.Thread(target=lambda k=k: out.__setitem__(k, body(k))) for k in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out, time.perf_counter() - t0


def generate_part(a):
    rows = []
    for model in a.models.split(","):
        single = None
        warm = gen_rpc.GenerationStub(grpc.insecure_channel(a.target))  # JIT and session warm-up, not measured
        for k in range(3):
            warm.GenerateUnary(gen.GenerateRequest(model=model, prompt=prompt(k),
                                                   params=gen.SamplingParams(max_new_tokens=a.tokens)))
        for streams in [int(s) for s in a.streams.split(",")]:
            def body(k, model=model, streams=streams):
                ch = grpc.insecure_channel(a.target)
                stub = gen_rpc.GenerationStub(ch)
                ttft, itl, tokens, errors = [], [], 0, []
                for r in range(a.rounds):
                    req = gen.GenerateRequest(model=model, prompt=prompt(k + r * streams),
                                              params=gen.SamplingParams(max_new_tokens=a.tokens))
                    t0 = time.perf_counter()
                    last = None
                    try:
                        for ev in stub.Generate(req, timeout=600):
                            if ev.HasField("token"):
                                now = time.perf_counter()
                                if last is None:
                                    ttft.append(now - t0)
                                else:
                                    itl.append(now - last)
                                last = now
                                tokens += 1
                    except grpc.RpcError as e:
                        errors.append(e.code().name)
                ch.close()
                return ttft, itl, tokens, errors
            results, wall = run_threads(streams, body)
            ttft = [x for r in results for x in r[0]]
            itl = [x for r in results for x in r[1]]
            tokens = sum(r[2] for r in results)
            errors = [e for r in results for e in r[3]]
            tps = tokens / wall
            single = tps if streams == 1 else single
            rows.append((model, streams, tps, tps / single if single else float("nan"), pct(ttft, 50) * 1e3,
                         pct(ttft, 99) * 1e3, pct(itl, 50) * 1e3, pct(itl, 99) * 1e3, len(errors)))
            sys.stderr.write("generate %s x%d: %.1f tok/s, %d errors %s\n" % (model, streams, tps, len(errors),
                                                                              sorted(set(errors))))
    print("| model | streams | aggregate tok/s | ratio to 1 stream | TTFT p50 ms | TTFT p99 ms | ITL p50 ms"
          " | ITL p99 ms | errors |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %d | %.1f | %.2f | %.1f | %.1f | %.1f | %.1f | %d |" % r)


def stream_tokens(stub, model, text, tokens):
    """One streaming Generate; returns (tokens received, wall seconds)."""
    t0 = time.perf_counter()
    n = 0
    for ev in stub.Generate(gen.GenerateRequest(model=model, prompt=text,
                                                params=gen.SamplingParams(max_new_tokens=tokens)), timeout=600):
        n += 1 if ev.HasField("token") else 0
    return n, time.perf_counter() - t0


def single_part(a):
    models = a.models.split(",")
    stub = gen_rpc.GenerationStub(grpc.insecure_channel(a.target))
    for m in models:  # JIT and session warm-up, not measured
        for k in range(3):
            stream_tokens(stub, m, prompt(k), a.tokens)
    samples = {m: [] for m in models}
    for r in range(a.rounds):
        for m in (models if r % 2 == 0 else models[::-1]):
            n, wall = stream_tokens(stub, m, prompt(r), a.tokens)
            samples[m].append(n / wall)
    ref = pct(samples[models[-1]], 50)
    print("| model | rounds | median tok/s | min | max | median / %s |" % models[-1])
    print("|---|---|---|---|---|---|")
    for m in models:
        xs = samples[m]
        print("| %s | %d | %.1f | %.1f | %.1f | %.3f |" % (m, len(xs), pct(xs, 50), min(xs), max(xs),
                                                         pct(xs, 50) / ref))


def infer_request(stub, model, seq):
    meta = stub.ModelMetadata(inf.ModelMetadataRequest(name=model))
    req = inf.ModelInferRequest(model_name=model)
    for i in meta.inputs:
        if i.datatype == "FP32":
            width = i.shape[-1]
            req.inputs.add(name=i.name, datatype="FP32", shape=[1, width])
            req.raw_input_contents.append(struct.pack("<%df" % width, *[0.01 * k for k in range(width)]))
        else:  # a text encoder: input_ids, attention_mask, token_type_ids [1, seq]
            ids = [101] + [2000 + k for k in range(seq - 2)] + [102]
            vals = ids if i.name == "input_ids" else ([1] * seq if i.name == "attention_mask" else [0] * seq)
            req.inputs.add(name=i.name, datatype="INT64", shape=[1, seq])
            req.raw_input_contents.append(struct.pack("<%dq" % seq, *vals))
    return req


def compute_totals(stub, model):
    """(ns, count) of the server's compute_infer statistics (for a batched model: queue + joint run)."""
    st = stub.ModelStatistics(inf.ModelStatisticsRequest(name=model)).model_stats
    return (sum(s.inference_stats.compute_infer.ns for s in st), sum(s.inference_stats.compute_infer.count for s in st))


def infer_part(a):
    rows = []
    plain = {}
    for model in a.models.split(","):
        ch = grpc.insecure_channel(a.target)
        req = infer_request(inf_rpc.GRPCInferenceServiceStub(ch), model, a.seq)
        ch.close()
        for clients in [int(c) for c in a.clients.split(",")]:
            def body(k, req=req):
                ch = grpc.insecure_channel(a.target)
                stub = inf_rpc.GRPCInferenceServiceStub(ch)
                for _ in range(5):
                    stub.ModelInfer(req)
                lat, errors = [], 0
                end = time.perf_counter() + a.seconds
                while time.perf_counter() < end:
                    t0 = time.perf_counter()
                    try:
                        stub.ModelInfer(req, timeout=60)
                        lat.append(time.perf_counter() - t0)
                    except grpc.RpcError:
                        errors += 1
                ch.close()
                return lat, errors
            ch = grpc.insecure_channel(a.target)
            stats = inf_rpc.GRPCInferenceServiceStub(ch)
            before = compute_totals(stats, model)
            results, wall = run_threads(clients, body)
            after = compute_totals(stats, model)
            ch.close()
            lat = [x for r in results for x in r[0]]
            errors = sum(r[1] for r in results)
            served = after[1] - before[1]
            compute = (after[0] - before[0]) / served / 1e6 if served else float("nan")
            rps = len(lat) / wall
            if not model.endswith("-batched"):
                plain[(model, clients)] = rps
            ratio = rps / plain.get((model[:-len("-batched")] if model.endswith("-batched") else model, clients), rps)
            rows.append((model, a.seq, clients, rps, ratio, pct(lat, 50) * 1e3, pct(lat, 99) * 1e3, compute,
                         pct(lat, 50) * 1e3 / compute if compute == compute and compute > 0 else float("nan"),
                         errors))
            sys.stderr.write("infer %s x%d: %.1f req/s\n" % (model, clients, rps))
    print("| model | seq | clients | req/s | vs unbatched | p50 ms | p99 ms | server compute ms/run | client p50 /"
          " compute | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %d | %d | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | %d |" % r)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", default="localhost:9000")
    sub = p.add_subparsers(dest="part", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--models", default="stories15m")
    g.add_argument("--streams", default="1,4,16,64")
    g.add_argument("--tokens", type=int, default=128)
    g.add_argument("--rounds", type=int, default=1)
    i = sub.add_parser("infer")
    i.add_argument("--models", default="demo-mlp")
    i.add_argument("--clients", default="1,32")
    i.add_argument("--seq", type=int, default=16)
    i.add_argument("--seconds", type=float, default=5)
    s = sub.add_parser("single")
    s.add_argument("--models", default="stories15m,stories15m-b1")
    s.add_argument("--tokens", type=int, default=128)
    s.add_argument("--rounds", type=int, default=20)
    a = p.parse_args()
    {"generate": generate_part, "infer": infer_part, "single": single_part}[a.part](a)


if __name__ == "__main__":
    main()
