package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weight-only pruning of MiniLM (heads + FFN channels, LLM-Pruner arithmetic): widths per layer as
 * computed by hand, and the embedding-agreement harness: dense vs dense is exactly 1, the pruned
 * encoder agrees less, and more pruning agrees less still.
 */
class EncoderPruningTest {
  @TempDir Path dir;

  @Test
  void magnitudePruningOfMiniLm() throws Exception {
    ModelProto dense = ModelProto.parseFrom(Files.readAllBytes(Fixtures.minilm()));
    Pruner.Result quarter = Pruner.prune(dense, new Pruner.Options(Criterion.MAGNITUDE_L2, 0.25, 0, 0, -1));
    // heads: (384 − int(384·0.75)) div 32 = 3 of 12; channels: 1536 − int(1536·0.75) = 384.
    assertEquals(Collections.nCopies(6, 9), quarter.headsPerLayer());
    assertEquals(Collections.nCopies(6, 1152), quarter.channelsPerLayer());
    // each layer loses 3·32 columns of q/k/v (+ biases) and rows of o, 384 fc1 columns (+ bias) and fc2 rows
    long removed = 6L * (4 * 96 * 384 + 3 * 96 + 2 * 384 * 384 + 384);
    assertEquals(quarter.parametersBefore() - removed, quarter.parametersAfter());
    Pruner.Result half = Pruner.prune(dense, new Pruner.Options(Criterion.MAGNITUDE_L2, 0.5, 0, 0, -1));
    List<String> texts = EncoderTexts.sentences(24);
    assertEquals(24, texts.size());
    try (HfTokenizer tok = HfTokenizer.load(MiniLm.tokenizerFile(FixtureCache.defaultCache()), 256);
        ModelSession d = Stories15mModels.load(dir, dense, "dense");
        ModelSession q = Stories15mModels.load(dir, quarter.model(), "quarter");
        ModelSession h = Stories15mModels.load(dir, half.model(), "half")) {
      EmbeddingAgreement.Result self = EmbeddingAgreement.evaluate(d, d, tok, texts);
      assertEquals(1.0, self.minCosine(), 1e-6);
      EmbeddingAgreement.Result rq = EmbeddingAgreement.evaluate(q, d, tok, texts);
      EmbeddingAgreement.Result rh = EmbeddingAgreement.evaluate(h, d, tok, texts);
      assertTrue(rq.meanCosine() < 0.9999 && rh.meanCosine() < rq.meanCosine(), rq + " / " + rh);
    }
  }
}
