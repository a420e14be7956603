package dev.pruneserve.bench;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.RecipeParser;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.LmBench;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every LLM method at p = 0.2 and 0.5 on a grouped-query model: stories15M converted to 3 K/V heads
 * for its 6 query heads by mean-pooling each pair of K/V heads (the GQA paper's conversion, no
 * uptraining), written as a Hugging Face folder and imported. Units are KV groups (a K/V head with
 * its 2 query heads). Rows: the dense MHA model, the dense GQA model, then each method; KL and
 * top-1 against the dense GQA model. Run: ./mvnw -B test -Pbench -Dtest=GqaQualityBenchTest
 */
@Tag("bench")
class GqaQualityBenchTest {
  static final List<String> METHODS = List.of("random", "magnitude-l2", "wanda-sp", "flap", "mini-llm",
      "forward-search", "taylor");

  @Test
  void table() throws Exception {
    LmBench mha = LmBench.open("gqa");
    LmBench b = mha.gqa();
    ModelProto gqa = b.dense();
    try (ModelSession dense = b.loadDense(); ModelSession mhaDense = mha.loadDense()) {
      b.row(mhaDense, "dense MHA (6 K/V heads; KL vs itself)", 0, Pruner.summarise(mha.dense(), mha.dense()), 0);
      b.row(dense, "dense GQA (3 K/V heads)", 0, Pruner.summarise(gqa, gqa), 0);
      for (double p : new double[] {0.2, 0.5}) {
        for (String m : METHODS) {
          long t0 = System.nanoTime();
          Pruner.Result r = PruneMethods.apply(gqa, RecipeParser.parse(m, p, Map.of()), b.calib(), OrtRuntime.cpu(2));
          b.row(dense, m, p, r, (System.nanoTime() - t0) / 1e9);
        }
      }
    }
  }
}
