package dev.pruneserve.pruning.ifso;

import dev.pruneserve.assets.FashionMnist;
import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.assets.trained.FashionResNet;
import dev.pruneserve.eval.ClassifierAgreement;
import dev.pruneserve.model.ProcessMemory;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.cnn.ChannelPruner;
import dev.pruneserve.pruning.cnn.CutRecord;
import dev.pruneserve.pruning.recovery.CnnReconstruction;
import dev.pruneserve.pruning.recovery.ReconstructSettings;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.train.ImageSet;
import dev.pruneserve.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * CNN channel pruning on the trained Fashion-MNIST ResNet fixture, every method in one run at 50 %
 * and 70 % of the FLOPs removed: IFSO prune-while-training (faithful loop, shortened schedule),
 * IFSO one-shot (§3.8 option 4), first-order Taylor on masks, L1 filter norms and random
 * (FLOPs-matched uniform ratios). Prints test accuracy (10,000 images) without fine-tuning and
 * after the same short fine-tune, each without and with BN recalibration (8 batches of 128 training
 * images, the product's default: {@code recover.recalibrate_bn}), each also after sequential
 * least-squares reconstruction (issue 22: {@code recover.reconstruct} on 512 unlabelled training
 * images, dense BN statistics kept, as the RPC's default; and BN recalibration → reconstruction),
 * FLOPs kept, scoring time and the process's peak RSS so far.
 * Schedules come from {@code -Dbench.cnn.batch} (64), {@code bench.cnn.interval} (2),
 * {@code bench.cnn.scoring} (1 batch per iteration), {@code bench.cnn.rescore} (10 removals),
 * {@code bench.cnn.lr} (0.01 while pruning), {@code bench.cnn.finetune} (300 steps of 128, lr 0.01);
 * {@code bench.cnn.methods} and {@code bench.cnn.removed} (0.5,0.7) select rows.
 * Run: ./mvnw -B test -Pbench -Dtest=CnnPruningBenchTest
 */
@Tag("bench")
class CnnPruningBenchTest {
  @Test
  void fashionResNet() throws Exception {
    OrtRuntime rt = OrtRuntime.cpu(0);
    FixtureCache cache = FixtureCache.defaultCache();
    FashionResNet.ensure(cache, rt, FashionResNet.EPOCHS);
    ModelProto dense = ModelProto.parseFrom(Files.readAllBytes(FashionResNet.modelFile(cache)));
    ImageSet train = FashionMnist.train();
    ImageSet test = FashionMnist.test();
    Path dir = Files.createTempDirectory("cnn-bench");
    int batch = Integer.getInteger("bench.cnn.batch", 64);
    int interval = Integer.getInteger("bench.cnn.interval", 2);
    int scoring = Integer.getInteger("bench.cnn.scoring", 1);
    int rescore = Integer.getInteger("bench.cnn.rescore", 10);
    double lr = Double.parseDouble(System.getProperty("bench.cnn.lr", "0.01"));
    int ft = Integer.getInteger("bench.cnn.finetune", 300);
    System.out.printf("BENCH cnn dense: test accuracy %.4f, %.2f MFLOPs (MACs) per image%n",
        accuracy(rt, dir, dense, test), CnnCost.macs(dense) / 1e6);
    System.out.printf("BENCH cnn schedule: batch %d, scoring batches %d, interval %d, rescore every %d, lr %.3g%n",
        batch, scoring, interval, rescore, lr);
    System.out
        .println("BENCH cnn | method | FLOPs removed | FLOPs kept | acc (no FT) | acc (no FT, BN recal) | acc (FT "
            + ft + " steps) | acc (FT, BN recal) | acc (rec) | acc (BN recal + rec) | acc (rec + FT) | acc (rec + FT,"
            + " BN recal) | scoring s | rec s | peak RSS MiB |");
    for (double removed : java.util.Arrays.stream(System.getProperty("bench.cnn.removed", "0.5,0.7").split(","))
        .mapToDouble(Double::parseDouble).toArray()) {
      double target = 1 - removed;
      for (String method : System.getProperty("bench.cnn.methods", "ifso-train,ifso-one-shot,taylor,l1,random")
          .split(",")) {
        long t0 = System.nanoTime();
        ModelProto pruned;
        double kept;
        switch (method) {
          case "l1", "random" -> {
            FlopsMatched.Result r = FlopsMatched.prune(dense, method.equals("l1") ? ChannelPruner.Score.L1
                : ChannelPruner.Score.RANDOM, target, 1);
            pruned = r.pruned().model();
            kept = r.flopsAfter() / r.flopsBefore();
          }
          default -> {
            Ifso.Criterion c = method.equals("taylor") ? Ifso.Criterion.TAYLOR : Ifso.Criterion.IFSO;
            Ifso.Mode m = method.equals("ifso-train") ? Ifso.Mode.TRAIN : Ifso.Mode.ONE_SHOT;
            Ifso.Options o = new Ifso.Options(c, m, target, batch, scoring, interval, rescore, 1e-2, 1e-4, lr, 1);
            Ifso.Outcome out = Ifso.prune(dense, train, o, rt, dir, Progress.NONE);
            pruned = out.model();
            kept = out.flopsAfter() / out.flopsBefore();
          }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double before = accuracy(rt, dir, pruned, test);
        double beforeRecal = accuracy(rt, dir, recalibrated(pruned, train, rt, dir), test);
        ModelProto tuned = Trainer.fineTune(pruned, train, Trainer.Options.of(ft, 0.01, 1), 128, rt, dir,
            (s, l, r) -> {});
        double after = accuracy(rt, dir, tuned, test);
        double afterRecal = accuracy(rt, dir, recalibrated(tuned, train, rt, dir), test);
        long r0 = System.nanoTime();
        ModelProto rec = reconstructed(dense, pruned, CutRecord.strip(pruned), train, rt, dir);
        double recSeconds = (System.nanoTime() - r0) / 1e9;
        double recAcc = accuracy(rt, dir, rec, test);
        double bnRecAcc = accuracy(rt, dir, reconstructed(dense, pruned, recalibrated(CutRecord.strip(pruned), train,
            rt, dir), train, rt, dir), test);
        ModelProto recTuned = Trainer.fineTune(rec, train, Trainer.Options.of(ft, 0.01, 1), 128, rt, dir,
            (s, l, r) -> {});
        double recAfter = accuracy(rt, dir, recTuned, test);
        double recAfterRecal = accuracy(rt, dir, recalibrated(recTuned, train, rt, dir), test);
        System.out.printf("BENCH cnn | %s | %.0f %% | %.3f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f"
            + " | %.1f | %.1f | %.0f |%n", method, removed * 100, kept, before, beforeRecal, after, afterRecal, recAcc,
            bnRecAcc, recAfter, recAfterRecal, seconds, recSeconds, ProcessMemory.peakRssBytes() / 1048576.0);
      }
    }
  }

  /**
   * Sequential reconstruction of {@code start} (the pruned network, perhaps recalibrated) against
   * {@code dense}, on the first 512 training images without their labels; {@code cut} carries the
   * surgery's record.
   */
  private static ModelProto reconstructed(ModelProto dense, ModelProto cut, ModelProto start, ImageSet train,
      OrtRuntime rt, Path dir) throws Exception {
    return CnnReconstruction.run(dense, start, CutRecord.read(cut), train, new ReconstructSettings(
        ReconstructSettings.Mode.SEQUENTIAL, ReconstructSettings.Projections.BOTH, ReconstructSettings.LAMBDA, 0), rt,
        dir, Progress.NONE).model();
  }

  /** As the Prune RPC's default: BN statistics re-estimated from 8 batches of 128 training images. */
  private static ModelProto recalibrated(ModelProto m, ImageSet train, OrtRuntime rt, Path dir) throws Exception {
    try (dev.pruneserve.train.TrainingSession s = dev.pruneserve.train.TrainingSession.open(m, 128, rt, dir)) {
      s.recalibrate(train, 8, 1);
      return s.export();
    }
  }

  private static double accuracy(OrtRuntime rt, Path dir, ModelProto m, ImageSet test) throws Exception {
    Path f = Files.createTempFile(dir, "eval", ".onnx");
    Files.write(f, m.toByteArray());
    try (ModelSession s = rt.load("eval/1", f)) {
      return ClassifierAgreement.accuracy(s, test, 500);
    } finally {
      Files.deleteIfExists(f);
    }
  }
}
