package dev.pruneserve.testing;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real single-member etcd ({@code etcd} from Debian's etcd-server, as .ci/run installs it) on
 * free loopback ports, its data in {@code dir}; {@link #stop} and {@link #start} keep the ports and
 * the data, like a restarted member. Not thread-safe.
 */
public final class EtcdProcess implements AutoCloseable {
  private final Path binary;
  private final Path dir;
  private final int clientPort;
  private final int peerPort;
  private Process process;
  private int starts;

  private EtcdProcess(Path binary, Path dir, int clientPort, int peerPort) {
    this.binary = binary;
    this.dir = dir;
    this.clientPort = clientPort;
    this.peerPort = peerPort;
  }

  /** The etcd binary on PATH (or /usr/bin/etcd); empty when it is not installed. */
  public static Optional<Path> binary() {
    for (String d : (System.getenv().getOrDefault("PATH", "") + ":/usr/bin:/usr/local/bin").split(":")) {
      Path p = Path.of(d.isEmpty() ? "." : d, "etcd");
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  public static EtcdProcess start(Path binary, Path dir) throws IOException, InterruptedException {
    EtcdProcess e = new EtcdProcess(binary, Files.createDirectories(dir), PackagedServer.freePort(), PackagedServer
        .freePort());
    e.start();
    return e;
  }

  public String endpoint() {
    return "http://127.0.0.1:" + clientPort;
  }

  /** Starts (again) on the same ports and data; returns once the client port accepts connections. */
  public void start() throws IOException, InterruptedException {
    String peer = "http://127.0.0.1:" + peerPort;
    process = new ProcessBuilder(List.of(binary.toString(), "--name", "fleet-test", "--data-dir", dir.resolve("data")
        .toString(), "--listen-client-urls", endpoint(), "--advertise-client-urls", endpoint(), "--listen-peer-urls",
        peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "fleet-test=" + peer))
        .redirectErrorStream(true).redirectOutput(dir.resolve("etcd-" + (starts++) + ".log").toFile()).start();
    for (int i = 0; i < 300; i++) {
      if (!process.isAlive()) {
        throw new IllegalStateException("etcd exited at start: " + Files.readString(dir.resolve("etcd-" + (starts - 1)
            + ".log")));
      }
      try (Socket s = new Socket("127.0.0.1", clientPort)) {
        if (s.isConnected()) {
          return;
        }
      } catch (IOException notYet) {
        Thread.sleep(100);
      }
    }
    throw new IllegalStateException("etcd did not listen on " + endpoint());
  }

  /** SIGKILL (a crashed member); its data stays. */
  public void stop() throws InterruptedException {
    process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
    }
  }
}
