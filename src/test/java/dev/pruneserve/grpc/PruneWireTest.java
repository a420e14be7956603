package dev.pruneserve.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pruneserve.api.v1.CalibrationSpec;
import dev.pruneserve.api.v1.ImageDataset;
import dev.pruneserve.api.v1.MiniLlmOptions;
import dev.pruneserve.api.v1.PruneOptions;
import dev.pruneserve.api.v1.PruneRequest;
import dev.pruneserve.api.v1.RecoverOptions;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The RPC's options become the CLI's flags, so both go through one parser with one set of defaults. */
class PruneWireTest {
  @Test
  void requestOptionsAreTheCommandLineFlags() {
    PruneRequest r = PruneRequest.newBuilder().setModel("m").setMethod("mini-llm").setRatio(0.2)
        .setOptions(PruneOptions.newBuilder().setSeed(3).setEndLayer(4).setBiasCompensation(false)
            .setMiniLlm(MiniLlmOptions.newBuilder().setQueries(8).setMode("masks"))
            .setRecover(RecoverOptions.newBuilder().setSteps(10)))
        .setCalibration(CalibrationSpec.newBuilder().setImages(ImageDataset.newBuilder().setName("fashion-mnist")
            .setCount(64)))
        .build();
    assertEquals(Map.of("seed", "3", "layers", "0:4", "bias-compensation", "false", "queries", "8", "zo-mode",
        "masks", "recover-steps", "10", "images", "fashion-mnist", "images-count", "64"), PruneWire.options(r));
    assertEquals(Map.of(), PruneWire.options(PruneRequest.newBuilder().setMethod("flap").build()), "all defaults");
  }
}
