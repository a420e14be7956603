package dev.pruneserve.bench;

import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.assets.MiniLm;
import dev.pruneserve.eval.EmbeddingAgreement;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Criterion;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.EncoderTexts;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.Stories15mModels;
import dev.pruneserve.tokenizer.HfTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * MiniLM (all-MiniLM-L6-v2) pruned at p ∈ {0.25, 0.5} (heads + FFN channels, every layer) by the
 * weight-only criteria: parameters, cosine agreement of mean-pooled embeddings with dense over 128
 * fixed sentences (EncoderTexts), pruning wall time. Prints markdown rows.
 * Run: ./mvnw -B test -Pbench -Dtest=EncoderQualityBenchTest
 */
@Tag("bench")
class EncoderQualityBenchTest {
  @Test
  void table() throws Exception {
    ModelProto dense = ModelProto.parseFrom(Files.readAllBytes(Fixtures.minilm()));
    List<String> texts = EncoderTexts.sentences(128);
    Path dir = Files.createTempDirectory("encoder-quality");
    System.out.println("BENCH encoder | method | p | params (M) | mean cosine | min cosine | heads/layer | FFN/layer"
        + " | prune ms |");
    try (HfTokenizer tok = HfTokenizer.load(MiniLm.tokenizerFile(FixtureCache.defaultCache()), 256);
        ModelSession d = Stories15mModels.load(dir, dense, "dense")) {
      for (double p : new double[] {0.25, 0.5}) {
        for (Criterion c : List.of(Criterion.RANDOM, Criterion.MAGNITUDE_L2, Criterion.MAGNITUDE_L1,
            Criterion.MAGNITUDE_SP)) {
          long t0 = System.nanoTime();
          Pruner.Result r = Pruner.prune(dense, new Pruner.Options(c, p, 0, 0, -1));
          long ms = (System.nanoTime() - t0) / 1_000_000;
          try (ModelSession s = Stories15mModels.load(dir, r.model(), c.name())) {
            EmbeddingAgreement.Result a = EmbeddingAgreement.evaluate(s, d, tok, texts);
            System.out.printf("BENCH encoder | %s | %.2f | %.3f | %.4f | %.4f | %d | %d | %d |%n",
                c.name().toLowerCase(), p, r.parametersAfter() / 1e6, a.meanCosine(), a.minCosine(),
                r.headsPerLayer().get(0), r.channelsPerLayer().get(0), ms);
          }
        }
      }
    }
  }
}
