package dev.pruneserve.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pruneserve.assets.Stories15m;
import dev.pruneserve.llm.Llama2cCheckpoint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * stories15M written as a Hugging Face Llama folder by test code, as transformers' llama
 * conversion writes one: config.json, model.safetensors (F32; q/k rows permuted from llama2.c's
 * interleaved RoPE pairs to rotate-half order, {@code w.view(H, hd/2, 2, D).transpose(1, 2)}),
 * and a tokenizer.json built from stories15M's own tokenizer.bin in the layout transformers
 * writes for Llama tokenizers (BPE over {@code ▁}-joined text, byte fallback, BOS post-processor;
 * merges from the SentencePiece scores: a pair ranks by the score of the piece it makes),
 * tokenizer_config.json and generation_config.json. With fewer K/V heads than 6 it writes the
 * grouped-query model the GQA paper's conversion makes: each K/V head the mean of the K/V heads of
 * its group (no uptraining, so quality drops; the structure is what users bring).
 */
public final class Stories15mHf {
  /**
   * A story-completion "chat" template: BOS, then the user turns' text, so Generate with messages
   * [{user, p}] feeds exactly what prompt p feeds.
   */
  public static final String CHAT_TEMPLATE = "{{ bos_token }}{% for m in messages %}{% if m.role == 'user' %}"
      + "{{ m.content }}{% elif m.role != 'system' %}{{ raise_exception('only user turns') }}{% endif %}{% endfor %}";

  private Stories15mHf() {}

  public static Path write(Path dir) throws IOException {
    return write(dir, 6);
  }

  /** @param kvHeads K/V heads (6 = the checkpoint as it is; 3, 2 or 1: mean-pooled groups) */
  public static Path write(Path dir, int kvHeads) throws IOException {
    Files.createDirectories(dir);
    var cache = Fixtures.stories15m();
    Llama2cCheckpoint ck = Llama2cCheckpoint.read(Stories15m.modelFile(cache));
    ObjectMapper json = new ObjectMapper();
    ObjectNode c = json.createObjectNode();
    c.put("model_type", "llama").putArray("architectures").add("LlamaForCausalLM");
    c.put("hidden_size", ck.dim).put("intermediate_size", ck.hiddenDim).put("num_hidden_layers", ck.layers)
        .put("num_attention_heads", ck.heads).put("num_key_value_heads", kvHeads).put("vocab_size", ck.vocab)
        .put("max_position_embeddings", ck.seqLen).put("rms_norm_eps", 1e-5).put("rope_theta", 10000.0)
        .put("hidden_act", "silu").put("tie_word_embeddings", ck.tiedClassifier).put("bos_token_id", 1)
        .put("eos_token_id", 2).put("torch_dtype", "float32");
    int d = ck.dim;
    int hd = d / ck.heads;
    Map<String, Safetensor.Tensor> w = new LinkedHashMap<>();
    w.put("model.embed_tokens.weight", t(ck.tokenEmbedding(), ck.vocab, d));
    for (int l = 0; l < ck.layers; l++) {
      String p = "model.layers." + l + ".";
      w.put(p + "input_layernorm.weight", t(ck.rmsAttention(l), d));
      w.put(p + "post_attention_layernorm.weight", t(ck.rmsFfn(l), d));
      w.put(p + "self_attn.q_proj.weight", permute(t(ck.attention(0, l), d, d), ck.heads, hd));
      w.put(p + "self_attn.k_proj.weight", pool(permute(t(ck.attention(1, l), ck.kvDim(), d), ck.kvHeads, hd), kvHeads,
          hd));
      w.put(p + "self_attn.v_proj.weight", pool(t(ck.attention(2, l), ck.kvDim(), d), kvHeads, hd));
      w.put(p + "self_attn.o_proj.weight", t(ck.attention(3, l), d, d));
      w.put(p + "mlp.gate_proj.weight", t(ck.ffn(0, l), ck.hiddenDim, d));
      w.put(p + "mlp.down_proj.weight", t(ck.ffn(1, l), d, ck.hiddenDim));
      w.put(p + "mlp.up_proj.weight", t(ck.ffn(2, l), ck.hiddenDim, d));
    }
    w.put("model.norm.weight", t(ck.rmsFinal(), d));
    HfFolders.write(dir, c, w, "F32");
    Files.writeString(dir.resolve("tokenizer.json"), tokenizerJson(Stories15m.tokenizerFile(cache), ck.vocab));
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\","
        + " \"unk_token\": \"<unk>\", \"add_bos_token\": true, \"add_eos_token\": false,"
        + " \"tokenizer_class\": \"LlamaTokenizer\", \"model_max_length\": " + ck.seqLen + ", \"chat_template\": "
        + json.writeValueAsString(CHAT_TEMPLATE) + "}\n");
    Files.writeString(dir.resolve("generation_config.json"), "{\"bos_token_id\": 1, \"eos_token_id\": 2}\n");
    return dir;
  }

  private static Safetensor.Tensor t(FloatBuffer b, long... shape) {
    float[] v = new float[b.remaining()];
    b.duplicate().get(v);
    return new Safetensor.Tensor(shape, v);
  }

  /** Heads of [heads·hd, in] averaged in consecutive groups down to {@code kv} heads. */
  private static Safetensor.Tensor pool(Safetensor.Tensor w, int kv, int hd) {
    int in = (int) w.shape()[1];
    int heads = (int) w.shape()[0] / hd;
    if (kv == heads) {
      return w;
    }
    int rep = heads / kv;
    float[] out = new float[kv * hd * in];
    for (int h = 0; h < heads; h++) {
      for (int k = 0; k < hd * in; k++) {
        out[(h / rep) * hd * in + k] += w.values()[h * hd * in + k] / rep;
      }
    }
    return new Safetensor.Tensor(new long[] {(long) kv * hd, in}, out);
  }

  /** Rows (h, 2k + i) → (h, i·hd/2 + k): transformers' permute for q/k of llama2.c / Meta weights. */
  private static Safetensor.Tensor permute(Safetensor.Tensor w, int heads, int hd) {
    int in = (int) w.shape()[1];
    float[] out = new float[w.values().length];
    for (int h = 0; h < heads; h++) {
      for (int k = 0; k < hd / 2; k++) {
        for (int i = 0; i < 2; i++) {
          System.arraycopy(w.values(), (h * hd + 2 * k + i) * in, out, (h * hd + i * hd / 2 + k) * in, in);
        }
      }
    }
    return new Safetensor.Tensor(w.shape(), out);
  }

  /** The Llama tokenizer.json of a llama2.c tokenizer.bin (ids 0–2 special, 3–258 byte tokens). */
  static String tokenizerJson(Path tokenizerBin, int vocab) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(tokenizerBin)).order(ByteOrder.LITTLE_ENDIAN);
    b.getInt();
    String[] pieces = new String[vocab];
    float[] scores = new float[vocab];
    for (int i = 0; i < vocab; i++) {
      scores[i] = b.getFloat();
      byte[] p = new byte[b.getInt()];
      b.get(p);
      pieces[i] = new String(p, StandardCharsets.UTF_8).replace(' ', '\u2581');
    }
    pieces[0] = "<unk>";
    pieces[1] = "<s>";
    pieces[2] = "</s>";
    for (int i = 0; i < 256; i++) {
      pieces[3 + i] = String.format("<0x%02X>", i);
    }
    Map<String, Integer> ids = new HashMap<>();
    for (int i = 0; i < vocab; i++) {
      ids.put(pieces[i], i); // duplicates: the last id, as llama2.c's lookup
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    root.put("version", "1.0").putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (int i = 0; i < 3; i++) {
      added.addObject().put("id", i).put("content", pieces[i]).put("single_word", false).put("lstrip", false)
          .put("rstrip", false).put("normalized", false).put("special", true);
    }
    ArrayNode norms = root.putObject("normalizer").put("type", "Sequence").putArray("normalizers");
    norms.addObject().put("type", "Prepend").put("prepend", "\u2581");
    norms.addObject().put("type", "Replace").put("content", "\u2581").putObject("pattern").put("String", " ");
    root.putNull("pre_tokenizer");
    ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
    post.putArray("single").add(special("<s>", 0)).add(sequence("A", 0));
    post.putArray("pair").add(special("<s>", 0)).add(sequence("A", 0)).add(special("<s>", 1)).add(sequence("B", 1));
    ObjectNode st = post.putObject("special_tokens").putObject("<s>").put("id", "<s>");
    st.putArray("ids").add(1);
    st.putArray("tokens").add("<s>");
    ArrayNode decs = root.putObject("decoder").put("type", "Sequence").putArray("decoders");
    decs.addObject().put("type", "Replace").put("content", " ").putObject("pattern").put("String", "\u2581");
    decs.addObject().put("type", "ByteFallback");
    decs.addObject().put("type", "Fuse");
    decs.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
    ObjectNode model = root.putObject("model").put("type", "BPE").putNull("dropout");
    model.put("unk_token", "<unk>").putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", true).put("byte_fallback", true).put("ignore_merges", false);
    ObjectNode v = model.putObject("vocab");
    for (int i = 0; i < vocab; i++) {
      if (ids.get(pieces[i]) == i) {
        v.put(pieces[i], i);
      }
    }
    List<int[]> merges = new ArrayList<>(); // {merged id, left id, right id}
    for (int id = 259; id < vocab; id++) {
      String p = pieces[id];
      if (ids.get(p) != id) {
        continue;
      }
      for (int cut = p.offsetByCodePoints(0, 1); cut < p.length(); cut = p.offsetByCodePoints(cut, 1)) {
        Integer l = ids.get(p.substring(0, cut));
        Integer r = ids.get(p.substring(cut));
        if (l != null && r != null && l >= 259 && r >= 259) {
          merges.add(new int[] {id, l, r});
        }
      }
    }
    merges.sort((x, y) -> scores[x[0]] != scores[y[0]] ? Float.compare(scores[y[0]], scores[x[0]])
        : x[0] != y[0] ? x[0] - y[0] : x[1] - y[1]);
    ArrayNode m = model.putArray("merges");
    for (int[] x : merges) {
      m.addArray().add(pieces[x[1]]).add(pieces[x[2]]);
    }
    return root.toString();
  }

  private static ObjectNode special(String id, int type) {
    ObjectNode n = new ObjectMapper().createObjectNode();
    n.putObject("SpecialToken").put("id", id).put("type_id", type);
    return n;
  }

  private static ObjectNode sequence(String id, int type) {
    ObjectNode n = new ObjectMapper().createObjectNode();
    n.putObject("Sequence").put("id", id).put("type_id", type);
    return n;
  }
}
