package dev.pruneserve.grpc;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.eclipse.microprofile.config.ConfigProvider;

/** Reads the Prometheus exposition of the server under test. */
final class MetricsScrape {
  private MetricsScrape() {}

  static String body() throws IOException, InterruptedException {
    int port = ConfigProvider.getConfig().getOptionalValue("quarkus.http.test-port", Integer.class).orElse(8081);
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/q/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("/q/metrics answered " + r.statusCode());
    }
    return r.body();
  }

  /** Sum of the samples of {@code metric} whose labels contain {@code label}. */
  static double value(String body, String metric, String label) {
    return body.lines().filter(l -> l.startsWith(metric + "{") && l.contains(label))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /** Polls (bounded: 100 × 100 ms) until the value reaches {@code atLeast}; returns {value}. */
  static double[] waitFor(String metric, String label, double atLeast) throws Exception {
    double v = 0;
    for (int i = 0; i < 100; i++) {
      v = value(body(), metric, label);
      if (v >= atLeast) {
        break;
      }
      Thread.sleep(100);
    }
    return new double[] {v};
  }
}
