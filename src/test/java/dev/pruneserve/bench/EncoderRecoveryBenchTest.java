package dev.pruneserve.bench;

import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.assets.MiniLm;
import dev.pruneserve.eval.EmbeddingAgreement;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.RecipeParser;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.EncoderTexts;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.Stories15mModels;
import dev.pruneserve.tokenizer.HfTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MiniLM pruned with and without sequential reconstruction (issue 22 on an encoder, for issue 20's
 * cosine target): every method of {@code -Dbench.methods} (magnitude-l2, wanda-sp, flap) at every
 * ratio of {@code -Dbench.ratios} (0.25), calibrated on the first {@code -Dbench.calib} sentences
 * (counts, comma-separated; default 32,512) of the calibration stories (calib_ids.json) tokenized by
 * MiniLM's tokenizer; agreement: mean cosine of pooled embeddings to the dense encoder's on 128
 * held-out sentences of the evaluation stories. Prints one row per cell with the seconds it took.
 * Run: ./mvnw -B test -Pbench -Dclients.skip=true -Dtest=EncoderRecoveryBenchTest
 */
@Tag("bench")
class EncoderRecoveryBenchTest {
  @TempDir Path dir;

  @Test
  void miniLm() throws Exception {
    ModelProto dense = ModelProto.parseFrom(Files.readAllBytes(Fixtures.minilm()));
    List<String> eval = EncoderTexts.sentences(128);
    int loaded = 0;
    try (HfTokenizer tok = HfTokenizer.load(MiniLm.tokenizerFile(FixtureCache.defaultCache()), 256);
        ModelSession d = Stories15mModels.load(dir, dense, "dense")) {
      System.out.println("| method | p | calibration sentences (tokens) | reconstruct | mean cosine | min cosine"
          + " | parameters | seconds |");
      for (String n : System.getProperty("bench.calib", "32,512").split(",")) {
        List<int[]> calib = new ArrayList<>();
        for (String t : EncoderTexts.sentences("calib_ids.json", Integer.parseInt(n))) {
          calib.add(java.util.Arrays.stream(tok.encode(t).ids()).mapToInt(Math::toIntExact).toArray());
        }
        int tokens = calib.stream().mapToInt(a -> a.length).sum();
        for (String ratio : System.getProperty("bench.ratios", "0.25").split(",")) {
          for (String method : System.getProperty("bench.methods", "magnitude-l2,wanda-sp,flap").split(",")) {
            for (boolean rec : new boolean[] {false, true}) {
              Map<String, String> o = new LinkedHashMap<>();
              if (rec) {
                o.put("reconstruct", "true");
              }
              long t0 = System.nanoTime();
              Pruner.Result r = PruneMethods.apply(dense, RecipeParser.parse(method, Double.parseDouble(ratio), o),
                  calib, OrtRuntime.cpu(2));
              double seconds = (System.nanoTime() - t0) / 1e9;
              try (ModelSession s = Stories15mModels.load(dir, r.model(), "pruned" + loaded++)) {
                EmbeddingAgreement.Result a = EmbeddingAgreement.evaluate(s, d, tok, eval);
                System.out.printf("| %s | %s | %d (%d) | %s | %.4f | %.4f | %,d | %.1f |%n", method, ratio, calib
                    .size(), tokens, rec ? "sequential" : "—", a.meanCosine(), a.minCosine(), r.parametersAfter(),
                    seconds);
              }
            }
          }
        }
      }
    }
  }
}
