package dev.pruneserve.app;

import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.assets.trained.FashionResNet;
import dev.pruneserve.runtime.OrtRuntime;
import java.io.IOException;

/** {@code [epochs]}: trains the fashion-resnet fixture into the default cache when missing ({@code -Pcnn-fixture}). */
public final class TrainCnnFixture {
  private TrainCnnFixture() {}

  public static void main(String[] args) throws IOException {
    int epochs = args.length > 0 ? Integer.parseInt(args[0]) : FashionResNet.EPOCHS;
    FashionResNet.ensure(FixtureCache.defaultCache(), OrtRuntime.cpu(0), epochs);
    System.out.println("fashion-resnet ok: " + FashionResNet.modelFile(FixtureCache.defaultCache()));
  }
}
