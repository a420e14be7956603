package dev.pruneserve.testing;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ServerReadyRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The packaged server ({@code target/quarkus-app/quarkus-run.jar}, the README's start command) in
 * its own process on free ports, its output in a log file, its temporary files in its own folder.
 * Not thread-safe: one test thread drives it.
 */
public final class PackagedServer implements AutoCloseable {
  public static final Path JAR = Path.of("target", "quarkus-app", "quarkus-run.jar");

  private final Process process;
  private final Path log;
  private final Path tmp;
  private final int grpcPort;
  private final int httpPort;
  private final ManagedChannel channel;

  private PackagedServer(Process process, Path log, Path tmp, int grpcPort, int httpPort) {
    this.process = process;
    this.log = log;
    this.tmp = tmp;
    this.grpcPort = grpcPort;
    this.httpPort = httpPort;
    this.channel = ManagedChannelBuilder.forAddress("localhost", grpcPort).usePlaintext()
        .maxInboundMessageSize(64 << 20).build();
  }

  /**
   * Starts the jar on {@code repo} with {@code -D} settings {@code props} ("key=value"); the log goes
   * to {@code dir/server-N.log}, java.io.tmpdir to {@code dir/tmp-N}. Returns once it listens.
   */
  public static PackagedServer start(Path dir, Path repo, String... props) throws IOException {
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException(JAR + " is built by the package phase: ./mvnw -B -q package -DskipTests");
    }
    int n = (int) (System.nanoTime() % 1_000_000);
    Path log = dir.resolve("server-" + n + ".log");
    Path tmp = Files.createDirectories(dir.resolve("tmp-" + n));
    int grpc = freePort();
    int http = freePort();
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Djava.io.tmpdir=" + tmp, "-Dquarkus.grpc.server.port=" + grpc, "-Dquarkus.http.port=" + http,
        "-Dpruneserve.repository.path=" + repo));
    for (String p : props) {
      cmd.add("-D" + p);
    }
    cmd.addAll(List.of("-jar", JAR.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    PackagedServer s = new PackagedServer(p, log, tmp, grpc, http);
    s.awaitReady();
    return s;
  }

  public ManagedChannel channel() {
    return channel;
  }

  public Process process() {
    return process;
  }

  public Path tmp() {
    return tmp;
  }

  public int httpPort() {
    return httpPort;
  }

  public int grpcPort() {
    return grpcPort;
  }

  public String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return e.toString();
    }
  }

  private void awaitReady() {
    var s = GRPCInferenceServiceGrpc.newBlockingStub(channel);
    for (int i = 0; i < 900; i++) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the server exited at start: " + log());
      }
      try {
        if (s.withDeadlineAfter(1, TimeUnit.SECONDS).serverReady(ServerReadyRequest.getDefaultInstance()).getReady()) {
          return;
        }
      } catch (StatusRuntimeException e) {
        // not listening yet
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new IllegalStateException("the server did not become ready: " + log());
  }

  /** SIGKILL, then waits for the process to be gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly().waitFor(60, TimeUnit.SECONDS);
    channel.shutdownNow();
  }

  @Override
  public void close() {
    channel.shutdownNow();
    if (process.isAlive()) {
      try {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
