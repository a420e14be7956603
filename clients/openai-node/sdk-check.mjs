// The unmodified OpenAI Node.js SDK against pruneserve's /v1 routes: every call the CI check makes,
// printed as one JSON object on stdout (the Java test compares it with the gRPC answers).
//   node sdk-check.mjs --base-url http://localhost:8080/v1 [--api-key TOKEN] [--llm stories15m]
//        [--chat-llm stories15m-hf] [--encoder minilm] [--alias NAME]
import OpenAI from "openai";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const client = new OpenAI({ baseURL: arg("base-url", "http://localhost:8080/v1"),
  apiKey: arg("api-key", "unused"), maxRetries: 0 });
const llm = arg("llm", "stories15m");
const chatLlm = arg("chat-llm", "stories15m-hf");
const encoder = arg("encoder", "minilm");
const alias = arg("alias", null);
const out = {};

async function failure(call) {
  try {
    await call();
    return { status: 0 };
  } catch (e) {
    return { status: e.status ?? -1, message: e.error?.message ?? e.message, code: e.code ?? null,
      type: e.type ?? null, name: e.constructor.name };
  }
}

async function concat(stream, pick) {
  let text = "";
  const reasons = [];
  const roles = [];
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += pick(c) ?? "";
      if (c.finish_reason) reasons.push(c.finish_reason);
      if (c.delta?.role) roles.push(c.delta.role);
    }
  }
  return { text, reasons, roles, usage };
}

const greedy = await client.completions.create({ model: llm, prompt: "Once upon a time", max_tokens: 20,
  temperature: 0 });
out.greedy = { text: greedy.choices[0].text, finish_reason: greedy.choices[0].finish_reason, usage: greedy.usage,
  object: greedy.object, model: greedy.model };

const seeded = { model: llm, prompt: "Once upon a time", max_tokens: 16, temperature: 0.8, seed: 7 };
out.seeded = (await client.completions.create(seeded)).choices[0].text;
out.seededStream = await concat(await client.completions.create({ ...seeded, stream: true,
  stream_options: { include_usage: true } }), (c) => c.text);

const chat = { model: chatLlm, messages: [{ role: "user", content: "Tell me a story." }], max_tokens: 12,
  temperature: 0 };
const chatWhole = await client.chat.completions.create(chat);
out.chat = { text: chatWhole.choices[0].message.content, role: chatWhole.choices[0].message.role,
  finish_reason: chatWhole.choices[0].finish_reason, object: chatWhole.object };
out.chatStream = await concat(await client.chat.completions.create({ ...chat, stream: true }),
  (c) => c.delta?.content);

const texts = ["a cat sat on the mat", "stock markets fell today"];
out.embeddings = (await client.embeddings.create({ model: encoder, input: texts })).data.map((d) => d.embedding);
out.embeddingsFloat = (await client.embeddings.create({ model: encoder, input: texts[0],
  encoding_format: "float" })).data.map((d) => d.embedding);

out.models = [];
for await (const m of client.models.list()) {
  out.models.push({ id: m.id, kind: m.kind, root: m.root ?? null, parent: m.parent ?? null });
}

if (alias) { // a pruned variant behind an alias, reached by the alias' name
  const viaAlias = await client.completions.create({ model: alias, prompt: "Once upon a time", max_tokens: 8,
    temperature: 0 });
  out.alias = { text: viaAlias.choices[0].text, model: viaAlias.model, fingerprint: viaAlias.system_fingerprint };
}

// Leaving a stream early aborts the HTTP request; the server cancels the generation.
const long = await client.completions.create({ model: llm, prompt: "Once upon a time", max_tokens: 200,
  stream: true });
let seen = 0;
for await (const chunk of long) {
  if (++seen === 3) break;
}
out.abortedAfter = seen;

out.errors = {
  unknownModel: await failure(() => client.completions.create({ model: "no-such-model", prompt: "x" })),
  unknownModelStream: await failure(async () => {
    for await (const c of await client.completions.create({ model: "no-such-model", prompt: "x", stream: true }));
  }),
  twoChoices: await failure(() => client.completions.create({ model: llm, prompt: "x", n: 2 })),
  noChatTemplate: await failure(() => client.chat.completions.create({ model: llm,
    messages: [{ role: "user", content: "hi" }] })),
  tooManyTokens: await failure(() => client.completions.create({ model: llm, prompt: "x", max_tokens: 1000000 })),
  notAnEncoder: await failure(() => client.embeddings.create({ model: llm, input: "x" })),
  badTemperature: await failure(() => client.completions.create({ model: llm, prompt: "x", temperature: -1 })),
};
console.log(JSON.stringify(out));
