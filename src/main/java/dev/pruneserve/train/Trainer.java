package dev.pruneserve.train;

/**
 * The SGD loop over a {@link TrainingSession}: {@code steps} steps of one batch each, epochs of
 * {@code ⌊size/batch⌋} steps over a fresh seeded shuffle (the remainder of each shuffle is skipped),
 * learning rate {@code lr} with cosine decay to 0 over all steps ({@code cosine}) or constant.
 * Deterministic for a seed up to ONNX Runtime's float32 summation order. Not thread-safe.
 */
public final class Trainer {
  /** What one run does. */
  public record Options(int steps, double lr, boolean cosine, TrainingSession.Sgd sgd, long seed) {
    public Options {
      if (steps < 0 || !(lr >= 0) || !(sgd.momentum() >= 0 && sgd.momentum() < 1) || !(sgd.weightDecay() >= 0)) {
        throw new IllegalArgumentException("training needs steps >= 0, lr >= 0, momentum in [0, 1), weight decay"
            + " >= 0; got steps " + steps + ", lr " + lr + ", " + sgd);
      }
    }

    /** The defaults of the reference fine-tuning recipe (momentum 0.9, weight decay 1e-4), cosine. */
    public static Options of(int steps, double lr, long seed) {
      return new Options(steps, lr, true, new TrainingSession.Sgd(0.9, 1e-4), seed);
    }
  }

  /** Called after every step with the step index (from 0), its learning rate and result. */
  public interface Listener {
    void step(int step, double lr, TrainingSession.Step result);
  }

  private Trainer() {}

  /** Fine-tunes {@code model} for {@code o.steps()} steps of {@code batch} images; returns the result. */
  public static dev.pruneserve.onnx.proto.Onnx.ModelProto fineTune(dev.pruneserve.onnx.proto.Onnx.ModelProto model,
      ImageSet data, Options o, int batch, dev.pruneserve.session.SessionLoader loader, java.nio.file.Path work,
      Listener listener) throws java.io.IOException {
    try (TrainingSession s = TrainingSession.open(model, batch, loader, work)) {
      run(s, data, o, listener);
      return s.export();
    }
  }

  public static void run(TrainingSession s, ImageSet data, Options o, Listener listener) {
    int perEpoch = data.size() / s.batch();
    if (perEpoch == 0) {
      throw new IllegalArgumentException("training data has " + data.size() + " images, fewer than one batch of "
          + s.batch());
    }
    int[] order = null;
    for (int step = 0; step < o.steps(); step++) {
      int inEpoch = step % perEpoch;
      if (inEpoch == 0) {
        order = data.shuffled(o.seed() * 1_000_003L + step / perEpoch);
      }
      double lr = o.cosine() ? o.lr() * 0.5 * (1 + Math.cos(Math.PI * step / o.steps())) : o.lr();
      TrainingSession.Step r = s.step(data, order, inEpoch * s.batch(), lr, o.sgd());
      listener.step(step, lr, r);
    }
  }
}
