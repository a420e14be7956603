package dev.pruneserve.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * HTTP calls to the test server through the {@code curl} command line, as users make them: the
 * status, headers and raw body of one request. Skips (developer machine) or fails (CI) without
 * curl.
 */
public final class Curl {
  /** One answer. {@code headers} keys are lower case. */
  public record Answer(int status, Map<String, String> headers, byte[] body) {
    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    public JsonNode json() {
      try {
        return new ObjectMapper().readTree(body);
      } catch (java.io.IOException e) {
        throw new AssertionError("not JSON (status " + status + "): " + text(), e);
      }
    }
  }

  private Curl() {}

  public static Answer get(String path, String... headers) throws Exception {
    return call("GET", path, null, headers);
  }

  public static Answer post(String path, String json, String... headers) throws Exception {
    return call("POST", path, json.getBytes(StandardCharsets.UTF_8),
        concat(headers, "Content-Type: application/json"));
  }

  /** {@code curl -X method} with {@code body} (may be null) sent as is. */
  public static Answer call(String method, String path, byte[] body, String... headers) throws Exception {
    ClientRuns.requireTools(Files.isExecutable(Path.of("/usr/bin/curl")), "the REST tests need curl");
    Path dir = Files.createTempDirectory("pruneserve-curl");
    try {
      List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-N", "-X", method, "-D",
          dir.resolve("headers").toString(), "-o", dir.resolve("body").toString()));
      for (String h : headers) {
        cmd.addAll(List.of("-H", h));
      }
      if (body != null) {
        Files.write(dir.resolve("request"), body);
        cmd.addAll(List.of("--data-binary", "@" + dir.resolve("request")));
      }
      cmd.add("http://localhost:" + TestPorts.http() + path);
      ClientRuns.run(cmd, Map.of());
      List<String> lines = Files.readAllLines(dir.resolve("headers"));
      int status = Integer.parseInt(lines.get(0).split(" ")[1]);
      Map<String, String> hs = new java.util.HashMap<>();
      for (String l : lines.subList(1, lines.size())) {
        int c = l.indexOf(':');
        if (c > 0) {
          hs.put(l.substring(0, c).trim().toLowerCase(), l.substring(c + 1).trim());
        }
      }
      return new Answer(status, hs, Files.readAllBytes(dir.resolve("body")));
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  /** The {@code data:} payloads of a server-sent-event body, in order. */
  public static List<String> events(Answer a) {
    return Arrays.stream(a.text().split("\n\n")).filter(e -> e.startsWith("data: "))
        .map(e -> e.substring("data: ".length())).toList();
  }

  private static String[] concat(String[] a, String b) {
    String[] out = Arrays.copyOf(a, a.length + 1);
    out[a.length] = b;
    return out;
  }
}
