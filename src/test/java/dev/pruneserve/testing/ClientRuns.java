package dev.pruneserve.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Runs the example clients of {@code clients/} as processes for the client tests. */
public final class ClientRuns {
  private ClientRuns() {}

  /** Runs {@code cmd} (2 min limit) with extra environment; asserts exit 0 and returns stdout. */
  public static String run(List<String> cmd, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("timed out: " + cmd);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), () -> cmd + " failed:\n" + out + err);
    return out;
  }

  /** Skips (developer machine) or fails (CI, where .ci/run installs the tools) when {@code ok} is false. */
  public static void requireTools(boolean ok, String why) {
    if (!ok && System.getenv("CI") != null) {
      fail(why);
    }
    if (!ok) {
      System.err.println("SKIPPED: " + why);
    }
    Assumptions.assumeTrue(ok, why);
  }
}
