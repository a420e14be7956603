package dev.pruneserve.app;

import dev.pruneserve.cli.Cli;
import dev.pruneserve.runtime.OrtRuntime;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

/**
 * Entry point of {@code quarkus-run.jar}: a first argument naming a command ({@link Cli#COMMANDS})
 * runs the command line in this JVM without starting the server; anything else starts the server.
 */
@QuarkusMain
public final class Main {
  Main() {} // package-private: Quarkus instantiates @QuarkusMain classes as beans

  public static void main(String... args) {
    if (args.length > 0 && Cli.COMMANDS.contains(args[0])) {
      System.exit(Cli.run(args, OrtRuntime::cpu));
    }
    Quarkus.run(args);
  }
}
