package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.assets.ThirdPartyOnnx;
import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.ModelFiles;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.cnn.ChannelDiscovery;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.runtime.OrtRuntime;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The five third-party models as shipped (fixtures: {@link ThirdPartyOnnx}): the four CNNs —
 * PaddleOCR classifier, detector and recogniser (weights in Constant nodes, SE blocks, FPN), the
 * openWakeWord embedding CNN (tf2onnx clips) — prune by magnitude and validate in ONNX Runtime,
 * with the nodes that block a few channel sets named in the details; the melspectrogram front end
 * (an STFT as a 1-D Conv) is refused naming the nodes that block it.
 */
class ThirdPartyCnnTest {
  private static final FixtureCache CACHE = FixtureCache.defaultCache();

  @BeforeAll
  static void fixtures() {
    Assumptions.assumeTrue(ThirdPartyOnnx.available(CACHE), "third-party ONNX fixtures not fetched"
        + " (./mvnw -B -q -Pfixtures process-classes)");
  }

  @Test
  void theFourCnnsPruneAsShipped() throws Exception {
    for (ThirdPartyOnnx.Model m : List.of(ThirdPartyOnnx.OCR_CLS, ThirdPartyOnnx.OCR_DET, ThirdPartyOnnx.OCR_REC,
        ThirdPartyOnnx.WAKE_EMBEDDING)) {
      ModelProto dense = ModelFiles.read(ThirdPartyOnnx.file(CACHE, m)).model();
      assertEquals(PruneMethods.Family.CNN, PruneMethods.family(dense), m.file());
      int groups = ChannelDiscovery.discover(dense).groups().size();
      assertTrue(groups >= 19, m.file() + ": " + groups + " groups");
      Pruner.Result r = PruneMethods.apply(dense, PruneRecipe.of("magnitude-l1", 0.2), null, OrtRuntime.cpu(1));
      assertEquals(groups, r.channelsPerLayer().size(), m.file());
      assertTrue(r.parametersAfter() < 0.9 * r.parametersBefore(), m.file() + ": " + r.parametersAfter() + " of "
          + r.parametersBefore());
    }
  }

  /** The classifier's 2-channel squeeze-excite groups: halved by default at p = 0.2, left whole with min-channels 4. */
  @Test
  void aMinimumWidthKeepsSmallGroupsWhole() throws Exception {
    ModelProto cls = ModelFiles.read(ThirdPartyOnnx.file(CACHE, ThirdPartyOnnx.OCR_CLS)).model();
    Pruner.Result plain = PruneMethods.apply(cls, PruneRecipe.of("magnitude-l1", 0.2), null, OrtRuntime.cpu(1));
    Pruner.Result min = PruneMethods.apply(cls, dev.pruneserve.pruning.methods.RecipeParser.parse("magnitude-l1", 0.2,
        java.util.Map.of("min-channels", "4")), null, OrtRuntime.cpu(1));
    List<Integer> dense = ChannelDiscovery.discover(cls).groups().stream().map(g -> g.channels()).toList();
    for (int i = 0; i < dense.size(); i++) {
      int kept = min.channelsPerLayer().get(i);
      assertTrue(dense.get(i) <= 4 ? kept == dense.get(i) : kept >= 4, "group " + i + ": " + kept + " of " + dense
          .get(i));
    }
    assertTrue(plain.channelsPerLayer().contains(1), "the default halves 2-channel groups: " + plain
        .channelsPerLayer());
    double removedPlain = 1 - (double) plain.parametersAfter() / plain.parametersBefore();
    double removedMin = 1 - (double) min.parametersAfter() / min.parametersBefore();
    assertTrue(removedMin < removedPlain, removedMin + " vs " + removedPlain);
    assertEquals(removedMin, (double) min.details().get("parameters_removed"), 1e-12);
    System.out.printf("ppocr-cls magnitude-l1 p=0.2: parameters removed %.4f (min-channels 1), %.4f (4)%n",
        removedPlain, removedMin);
  }

  @Test
  void theMelspectrogramIsRefusedNamingItsBlockingNodes() throws Exception {
    ModelProto mel = ModelFiles.read(ThirdPartyOnnx.file(CACHE, ThirdPartyOnnx.WAKE_MEL)).model();
    ServingException e = assertThrows(ServingException.class, () -> PruneMethods.apply(mel, PruneRecipe.of(
        "magnitude-l1", 0.2), null, OrtRuntime.cpu(1)));
    assertEquals(ErrorKind.FAILED_PRECONDITION, e.kind());
    assertTrue(e.getMessage().contains("Unsqueeze '") && e.getMessage().contains("not understood"), e.getMessage());
  }
}
