package dev.pruneserve.testing;

import dev.pruneserve.api.v1.GenerateRequest;
import dev.pruneserve.api.v1.GenerationGrpc;
import dev.pruneserve.api.v1.GetAliasRequest;
import dev.pruneserve.api.v1.PruneEvent;
import dev.pruneserve.api.v1.PruneRequest;
import dev.pruneserve.api.v1.PruningGrpc;
import dev.pruneserve.api.v1.SamplingParams;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** The calls the fleet tests and benches make on a packaged server, and their one polling wait. */
public final class FleetCalls {
  private FleetCalls() {}

  /** A 4-token greedy generation through {@code model} (a name or alias); the tokens generated. */
  public static int generate(PackagedServer s, String model) {
    return GenerationGrpc.newBlockingStub(s.channel()).withDeadlineAfter(60, TimeUnit.SECONDS).generateUnary(
        GenerateRequest.newBuilder().setModel(model).setPrompt("Once upon a time").setParams(SamplingParams
            .newBuilder().setMaxNewTokens(4)).build())
        .getTokenIdsCount();
  }

  /** What {@code s} routes {@code alias} to now; "" when it does not know the alias. */
  public static String served(PackagedServer s, String alias) {
    try {
      return PruningGrpc.newBlockingStub(s.channel()).getAlias(GetAliasRequest.newBuilder().setAlias(alias).build())
          .getServedTarget();
    } catch (StatusRuntimeException e) {
      return "";
    }
  }

  /** Every event of one Prune. */
  public static List<PruneEvent> prune(PackagedServer s, PruneRequest req) {
    List<PruneEvent> out = new ArrayList<>();
    PruningGrpc.newBlockingStub(s.channel()).withDeadlineAfter(300, TimeUnit.SECONDS).prune(req).forEachRemaining(
        out::add);
    return out;
  }

  /** Polls until true; the deadline (120 s) only ends a hung test, its message built then. */
  public static void await(Supplier<String> what, BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("never happened: " + what.get());
      }
      Thread.sleep(20);
    }
  }
}
