package dev.pruneserve.cli;

import dev.pruneserve.session.SessionLoader;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The command line: {@code pruneserve prune …} and {@code --help}. Exit status 0 on success, 2 for
 * bad usage (a one-line reason and a hint to --help), 1 for a failure (one line with the reason;
 * the stack trace only with {@code --verbose}). The runtime comes from the caller (the application
 * shell), so this package never constructs ONNX Runtime.
 */
public final class Cli {
  /** First words that select the command line instead of the server. */
  public static final java.util.Set<String> COMMANDS = java.util.Set.of("prune", "help", "--help", "-h");

  private static final String USAGE = String.join("\n",
      "usage: java -jar target/quarkus-app/quarkus-run.jar <command> [options]",
      "  (no command)   start the server",
      "  prune          prune an ONNX model file (prune --help for its options)",
      "  help           this text",
      "exit status: 0 ok, 2 bad usage, 1 failure; --verbose prints stack traces");

  private Cli() {}

  /** Runs {@code args} and returns the exit status; never calls System.exit. */
  public static int run(String[] args, IntFunction<SessionLoader> runtime) {
    boolean verbose = Arrays.asList(args).contains("--verbose");
    String[] rest = Arrays.stream(args).filter(a -> !a.equals("--verbose")).toArray(String[]::new);
    if (rest.length == 0 || !rest[0].equals("prune")) {
      System.out.println(USAGE);
      return rest.length == 0 || !COMMANDS.contains(rest[0]) ? 2 : 0;
    }
    String[] opts = Arrays.copyOfRange(rest, 1, rest.length);
    if (Arrays.asList(opts).contains("--help") || Arrays.asList(opts).contains("-h")) {
      System.out.println(PruneCommand.USAGE);
      return 0;
    }
    try {
      PruneCommand.run(flags(opts), runtime);
      return 0;
    } catch (Exception | OutOfMemoryError e) {
      boolean usage = PruneCommand.isUsage(e);
      System.err.println("pruneserve prune: " + (usage ? "" : "failed: ") + oneLine(e)
          + (usage ? " (prune --help lists the options)" : ""));
      if (verbose) {
        e.printStackTrace();
      }
      return usage ? 2 : 1;
    }
  }

  /** {@code --key value} pairs. */
  static Map<String, String> flags(String[] args) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      if (!args[i].startsWith("--") || args[i].length() < 3) {
        throw new UsageException("expected --option value, got '" + args[i] + "'");
      }
      if (i + 1 >= args.length) {
        throw new UsageException(args[i] + " needs a value");
      }
      m.put(args[i].substring(2), args[i + 1]);
    }
    return m;
  }

  private static String oneLine(Throwable e) {
    String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return msg.replaceAll("\\s*\\R\\s*", " ");
  }
}
