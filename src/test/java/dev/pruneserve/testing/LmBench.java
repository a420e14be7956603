package dev.pruneserve.testing;

import dev.pruneserve.eval.LmQuality;
import dev.pruneserve.eval.TokenFiles;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.session.ModelSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A stories15M pruning bench: the shared calibration stories, the in-domain evaluation stream and
 * SOTU (quality-reference.md §2), the dense model, a work folder, and one printed quality row per
 * pruned model (in-domain PPL, SOTU PPL, KL and top-1 against the dense model over 128-token
 * windows, heads kept per layer, seconds).
 */
public record LmBench(String tag, Path data, List<int[]> calib, int[] stories, int[] sotu, ModelProto dense,
    Path dir) {
  /** Loads the stories15M data (data/stories15m/) and the dense model and prints the table header. */
  public static LmBench open(String tag) throws IOException {
    Path data = Fixtures.stories15mData("eval_ids.json").getParent();
    LmBench b = new LmBench(tag, data, TokenFiles.stories(data.resolve("calib_ids.json")),
        TokenFiles.storiesStream(data.resolve("eval_ids.json")), TokenFiles.ids(data.resolve("sotu_ids.json")),
        Stories15mModels.dense(), Files.createTempDirectory(tag + "-bench"));
    System.out.printf("BENCH %s | method | p | PPL stories | PPL SOTU | KL | top-1 | heads kept | seconds |%n", tag);
    return b;
  }

  /**
   * This bench's data with the grouped-query model of the GQA rows as its dense model: stories15M
   * with each pair of K/V heads mean-pooled (3 K/V heads for 6 query heads), written as a Hugging
   * Face folder and imported.
   */
  public LmBench gqa() throws IOException {
    Path folder = Stories15mHf.write(dir.resolve("stories15m-gqa"), 3);
    ModelProto gqa = ModelProto.parseFrom(Files.readAllBytes(new dev.pruneserve.checkpoint.HfImport(dir.resolve(
        "cache")).modelFile(folder)));
    return new LmBench(tag, data, calib, stories, sotu, gqa, dir);
  }

  /** A session of the dense model (the KL / top-1 reference of every row). */
  public ModelSession loadDense() throws IOException {
    return Stories15mModels.load(dir, dense, "dense");
  }

  /** Prints {@code BENCH <tag> | name | p | PPL stories | PPL SOTU | KL | top-1 | heads | seconds |}. */
  public void row(ModelSession denseSession, String name, double p, Pruner.Result r, double seconds)
      throws Exception {
    try (ModelSession s = Stories15mModels.load(dir, r.model(), "variant")) {
      LmQuality.Result in = LmQuality.evaluate(s, denseSession, stories, 128);
      LmQuality.Result out = LmQuality.evaluate(s, null, sotu, 128);
      System.out.printf("BENCH %s | %s | %.1f | %.4g | %.4g | %.4f | %.4f | %s | %.1f |%n", tag, name, p,
          in.perplexity(), out.perplexity(), in.kl(), in.top1(), r.headsPerLayer(), seconds);
    }
  }
}
