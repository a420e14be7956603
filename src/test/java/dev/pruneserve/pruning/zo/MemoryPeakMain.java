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
 * (defaults, p = 0.2); {@code flap}, {@code flap+sequential}, {@code flap+one-shot} = FLAP at p = 0.5
 * without and with reconstruction, {@code flap+fine-tune} = FLAP then 8 steps of the recovery
 * fine-tune. Args: phase model.onnx calib_ids.json.
 */
public final class MemoryPeakMain {
  /** The heap cap of every phase. */
  static final String HEAP = "-Xmx512m";

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
    } else if (args[0].startsWith("flap")) { // flap | flap+sequential | flap+one-shot | flap+fine-tune, p = 0.5
      ModelProto dense = ModelProto.parseFrom(Files.readAllBytes(model));
      String variant = args[0].contains("+") ? args[0].substring(args[0].indexOf('+') + 1) : "";
      Map<String, String> o = variant.isEmpty() || variant.equals("fine-tune") ? Map.of() : Map.of("reconstruct",
          "true", "reconstruct-mode", variant);
      var r = dev.pruneserve.pruning.methods.PruneMethods.apply(dense, dev.pruneserve.pruning.methods.RecipeParser
          .parse("flap", 0.5, o), calib, rt);
      if (variant.equals("fine-tune")) {
        dev.pruneserve.pruning.recovery.FineTune.run(r.model(), calib, 8, 1e-4, 0, rt, Files.createTempDirectory("ft"),
            Progress.NONE);
      }
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

  /**
   * Runs {@link MemoryPeakMain} in a fresh JVM and returns its VmHWM. Every phase gets the same heap
   * cap ({@value #HEAP}) so that RSS compares native memory and live heap, not how much garbage G1
   * lets pile up before collecting in a long-running phase.
   */
  public static long peak(String phase, Path model, Path calib) throws Exception {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process proc = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), HEAP,
        "-cp", cp, MemoryPeakMain.class.getName(), phase, model.toString(), calib.toString()).redirectErrorStream(true)
        .start();
    String out = new String(proc.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (proc.waitFor() != 0) {
      throw new IllegalStateException(phase + " failed:\n" + out);
    }
    return out.lines().filter(l -> l.startsWith("PEAK ")).mapToLong(l -> Long.parseLong(l.substring(5))).findFirst()
        .orElseThrow(() -> new IllegalStateException("no PEAK line from " + phase + ":\n" + out));
  }

  /** Micro-batches of 8 length-sorted, right-padded sequences; only logits are requested. */
  private static void infer(ModelSession s, List<int[]> calib) {
    for (Map<String, Tensor> batch : LossProbe.batches(s, calib, 8, false)) {
      s.run(batch, Set.of("logits"));
    }
  }
}
