#!/usr/bin/env node
// pruneserve from Node.js (@grpc/grpc-js + @grpc/proto-loader, protos loaded from ../../proto).
// One task per command; every command prints one JSON object on stdout (progress goes to stderr).
//   node pruneserve.js [--target host:port] [--token T] infer --model M [--batch 2]
//   node pruneserve.js generate --model M --prompt "..." [--max-new-tokens 32] [--seed 1]
//   node pruneserve.js prune --model M --method flap --ratio 0.2 [--request '{"calibration":{...}}']
//   node pruneserve.js variants [--model M]
//   node pruneserve.js alias --alias A --to TARGET [--expected CURRENT]
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const PROTO = process.env.PRUNESERVE_PROTO || path.join(__dirname, '..', '..', 'proto');

function load() {
  const def = loader.loadSync(['inference/grpc_service.proto', 'pruneserve/v1/generation.proto',
    'pruneserve/v1/pruning.proto'], { includeDirs: [PROTO], keepCase: true, longs: String, enums: String,
    defaults: true, oneofs: true });
  return grpc.loadPackageDefinition(def);
}

function parse(argv) {
  const opts = { target: 'localhost:9000' };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) {
      opts[argv[i].slice(2)] = argv[i + 1];
      i++;
    } else {
      rest.push(argv[i]);
    }
  }
  return { command: rest[0], opts };
}

function metadata(opts) {
  const md = new grpc.Metadata();
  if (opts.token) md.set('authorization', 'Bearer ' + opts.token);
  return md;
}

const unary = (client, method, req, md) => new Promise((resolve, reject) =>
  client[method](req, md, (err, res) => (err ? reject(err) : resolve(res))));

async function infer(pkg, opts, md) {
  const c = new pkg.inference.GRPCInferenceService(opts.target, grpc.credentials.createInsecure());
  const meta = await unary(c, 'ModelMetadata', { name: opts.model }, md);
  const input = meta.inputs[0];
  const batch = Number(opts.batch || 2);
  const width = Number(input.shape[input.shape.length - 1]);
  const x = Buffer.alloc(batch * width * 4);
  for (let i = 0; i < batch * width; i++) x.writeFloatLE(0.01 * i, i * 4);
  const res = await unary(c, 'ModelInfer', { model_name: opts.model, id: 'node-1',
    inputs: [{ name: input.name, datatype: 'FP32', shape: [batch, width] }], raw_input_contents: [x] }, md);
  const outputs = {};
  res.outputs.forEach((o, k) => {
    const raw = res.raw_output_contents[k];
    const data = [];
    for (let i = 0; i < raw.length / 4; i++) data.push(raw.readFloatLE(i * 4));
    outputs[o.name] = { shape: o.shape.map(Number), datatype: o.datatype, data };
  });
  return { model: res.model_name, id: res.id, outputs };
}

function generate(pkg, opts, md) {
  const c = new pkg.pruneserve.v1.Generation(opts.target, grpc.credentials.createInsecure());
  const params = { max_new_tokens: Number(opts['max-new-tokens'] || 32) };
  if (opts.seed !== undefined) params.seed = String(opts.seed);
  return new Promise((resolve, reject) => {
    let text = '';
    let tokens = 0;
    const call = c.Generate({ model: opts.model, prompt: opts.prompt || '', params }, md);
    call.on('data', (ev) => {
      if (ev.token) {
        tokens++;
        text += ev.token.text;
        process.stderr.write(ev.token.text);
      } else if (ev.summary) {
        text += ev.summary.trailing_text;
        resolve({ text, tokens, finish_reason: ev.summary.finish_reason,
          tokens_per_second: ev.summary.tokens_per_second });
      }
    });
    call.on('error', reject);
  });
}

function prune(pkg, opts, md) {
  const c = new pkg.pruneserve.v1.Pruning(opts.target, grpc.credentials.createInsecure());
  const req = Object.assign({ model: opts.model, method: opts.method, ratio: Number(opts.ratio) },
    opts.request ? JSON.parse(opts.request) : {});
  return new Promise((resolve, reject) => {
    let phases = [];
    const call = c.Prune(req, md);
    call.on('data', (ev) => {
      if (ev.progress) {
        const p = ev.progress;
        if (phases[phases.length - 1] !== p.phase) phases.push(p.phase);
        const bar = '#'.repeat(Math.round(30 * p.fraction)).padEnd(30, '.');
        process.stderr.write(`\r[${bar}] ${(100 * p.fraction).toFixed(0).padStart(3)}% ${p.phase.padEnd(12)}`);
      } else if (ev.done) {
        process.stderr.write('\n');
        resolve({ job_id: ev.job_id, phases, variant: ev.done.name, reused: ev.done.reused,
          parameters_before: Number(ev.done.parameters_before), parameters_after: Number(ev.done.parameters_after) });
      }
    });
    call.on('error', reject);
  });
}

async function variants(pkg, opts, md) {
  const c = new pkg.pruneserve.v1.Pruning(opts.target, grpc.credentials.createInsecure());
  const res = await unary(c, 'ListVariants', { model: opts.model || '' }, md);
  return { variants: res.variants.map((v) => ({ name: v.name, parent: v.parent_model,
    recipe: JSON.parse(v.recipe_json || '{}') })) };
}

async function alias(pkg, opts, md) {
  const c = new pkg.pruneserve.v1.Pruning(opts.target, grpc.credentials.createInsecure());
  const req = { alias: opts.alias, target: opts.to };
  if (opts.expected !== undefined) req.expected_current = opts.expected;
  return unary(c, 'SetAlias', req, md);
}

async function main() {
  const { command, opts } = parse(process.argv.slice(2));
  const pkg = load();
  const md = metadata(opts);
  const run = { infer, generate, prune, variants, alias }[command];
  if (!run) {
    process.stderr.write('usage: pruneserve.js [--target host:port] [--token T] infer|generate|prune|variants|alias ...\n');
    process.exit(2);
  }
  try {
    console.log(JSON.stringify(await run(pkg, opts, md)));
  } catch (e) {
    process.stderr.write(`error: ${grpc.status[e.code] || e.code}: ${e.details || e.message}\n`);
    process.exit(1);
  }
}

main();
