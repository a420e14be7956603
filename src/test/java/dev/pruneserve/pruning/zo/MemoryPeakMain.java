package dev.pruneserve.pruning.zo;

import dev.pruneserve.eval.TokenFiles;
import dev.pruneserve.model.ProcessMemory;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One phase in a fresh JVM, then its peak RSS (VmHWM) on stdout as {@code PEAK <bytes>}:
 * {@code infer} = plain inference of the dense model over the calibration set in micro-batches of
 * 8 (logits out, as a serving forward); {@code weights} / {@code masks} = MINI-LLM scoring and
 * pruning with q = 2 and the same micro-batch; {@code taylor} = LLM-Pruner Element¹ with backprop
 * (generated backward graph, same micro-batch); {@code search} = pruneserve's forward search
 * (defaults, p = 0.2). Args: phase model.onnx calib_ids.json.
 */
public final class MemoryPeakMain {
  private MemoryPeakMain() {}

  public static void main(String[] args) throws Exception {
    Path model = Path.of(args[1]);
    List<int[]> calib = TokenFiles.stories(Path.of(args[2]));
    OrtRuntime rt = OrtRuntime.cpu(2);
    if (args[0].equals("infer")) {
      try (ModelSession s = rt.load("dense/1", model)) {
        infer(s, calib);
      }
    } else if (args[0].equals("search")) {
      ModelProto dense = ModelProto.parseFrom(Files.readAllBytes(model));
      dev.pruneserve.pruning.search.ForwardSearch.prune(dense, dev.pruneserve.pruning.search.ForwardSearch.Options
          .defaults(0.2), calib, rt, Files.createTempDirectory("search"), Progress.NONE);
    } else if (args[0].equals("taylor")) {
      ModelProto dense = ModelProto.parseFrom(Files.readAllBytes(model));
      dev.pruneserve.pruning.taylor.TaylorLlm.prune(dense, 0.2, 0, -1, calib, rt, Files.createTempDirectory("taylor"),
          Progress.NONE);
    } else {
      ModelProto dense = ModelProto.parseFrom(Files.readAllBytes(model));
      MiniLlm.Settings z = MiniLlm.Settings.of(args[0], 2, 0, "", "", "", "", 8);
      Path work = Files.createTempDirectory("zo-peak");
      MiniLlm.prune(dense, MiniLlm.Options.defaults(0.2).withSettings(z), calib, rt, work, Progress.NONE);
    }
    System.out.println("PEAK " + ProcessMemory.peakRssBytes());
  }

  /** Micro-batches of 8 length-sorted, right-padded sequences; only logits are requested. */
  private static void infer(ModelSession s, List<int[]> calib) {
    for (Map<String, Tensor> batch : LossProbe.batches(s, calib, 8, false)) {
      s.run(batch, Set.of("logits"));
    }
  }
}
