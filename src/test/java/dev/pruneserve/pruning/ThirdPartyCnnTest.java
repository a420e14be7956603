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

  @Test
  void theMelspectrogramIsRefusedNamingItsBlockingNodes() throws Exception {
    ModelProto mel = ModelFiles.read(ThirdPartyOnnx.file(CACHE, ThirdPartyOnnx.WAKE_MEL)).model();
    ServingException e = assertThrows(ServingException.class, () -> PruneMethods.apply(mel, PruneRecipe.of(
        "magnitude-l1", 0.2), null, OrtRuntime.cpu(1)));
    assertEquals(ErrorKind.FAILED_PRECONDITION, e.kind());
    assertTrue(e.getMessage().contains("Unsqueeze '") && e.getMessage().contains("not understood"), e.getMessage());
  }
}
