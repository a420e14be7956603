package dev.pruneserve.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * No cluster is available here, so the manifests are checked statically: every YAML document under
 * deploy/ parses and carries what Kubernetes and KServe need (kinds, names, the gRPC port 9000,
 * grpc probes, a GPU request, the PVC and the token Secret (mounted as a file) the Deployment
 * references, a v2 gRPC runtime the InferenceService names), and the Dockerfiles copy the packaged
 * app and expose the ports.
 */
class DeployManifestsTest {
  private static final Path DEPLOY = Path.of("deploy");

  private static Map<String, JsonNode> documents() throws Exception {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    Map<String, JsonNode> byKindName = new HashMap<>();
    List<Path> files = new ArrayList<>();
    try (var walk = Files.walk(DEPLOY)) {
      walk.filter(p -> p.toString().endsWith(".yaml")).forEach(files::add);
    }
    assertFalse(files.isEmpty(), "manifests under deploy/");
    for (Path f : files) {
      try (var parser = yaml.getFactory().createParser(f.toFile())) {
        var docs = yaml.readValues(parser, JsonNode.class);
        while (docs.hasNext()) {
          JsonNode d = docs.next();
          assertTrue(d.hasNonNull("apiVersion") && d.hasNonNull("kind"), f + ": apiVersion and kind");
          String name = d.path("metadata").path("name").asText();
          assertFalse(name.isEmpty(), f + ": metadata.name of a " + d.get("kind").asText());
          byKindName.put(d.get("kind").asText() + "/" + name, d);
        }
      }
    }
    return byKindName;
  }

  @Test
  void kubernetesManifestsCarryTheRequiredFields() throws Exception {
    Map<String, JsonNode> docs = documents();
    JsonNode deployment = docs.get("Deployment/pruneserve");
    JsonNode pod = deployment.path("spec").path("template").path("spec");
    JsonNode c = pod.path("containers").get(0);
    assertFalse(c.path("image").asText().isEmpty());
    assertEquals(deployment.path("spec").path("selector").path("matchLabels"),
        deployment.path("spec").path("template").path("metadata").path("labels"), "selector matches the pod labels");
    assertTrue(c.path("ports").findValuesAsText("containerPort").contains("9000"), "gRPC port 9000");
    for (String probe : List.of("readinessProbe", "livenessProbe")) {
      assertEquals(9000, c.path(probe).path("grpc").path("port").asInt(), probe + " uses grpc.health.v1 on 9000");
    }
    assertEquals(1, c.path("resources").path("limits").path("nvidia.com/gpu").asInt(), "a GPU resource request");
    String claim = pod.path("volumes").get(0).path("persistentVolumeClaim").path("claimName").asText();
    assertTrue(docs.containsKey("PersistentVolumeClaim/" + claim), "the PVC the Deployment mounts: " + claim);
    // the token file the server reads is a key of the Secret mounted as a volume (rotates without restart)
    JsonNode secretVolume = pod.path("volumes").findParents("secret").get(0);
    JsonNode secret = docs.get("Secret/" + secretVolume.path("secret").path("secretName").asText());
    assertTrue(secret != null, "the Secret the Deployment mounts");
    String mount = c.path("volumeMounts").findParents("name").stream()
        .filter(m -> m.path("name").equals(secretVolume.path("name"))).findFirst().orElseThrow()
        .path("mountPath").asText();
    String tokenFile = c.path("env").findParents("name").stream()
        .filter(e -> e.path("name").asText().equals("PRUNESERVE_SECURITY_MANAGEMENT_TOKENS_FILE")).findFirst()
        .orElseThrow().path("value").asText();
    assertEquals(mount + "/", tokenFile.substring(0, tokenFile.lastIndexOf('/') + 1), "token file under the mount");
    assertTrue(secret.path("stringData").has(tokenFile.substring(tokenFile.lastIndexOf('/') + 1)),
        "the Secret has the key the token file is named after: " + tokenFile);
    JsonNode service = docs.get("Service/pruneserve");
    assertEquals(deployment.path("spec").path("selector").path("matchLabels"), service.path("spec").path("selector"));
    assertTrue(service.path("spec").path("ports").findValuesAsText("port").contains("9000"));
  }

  @Test
  void kserveRuntimeServesTheInferenceService() throws Exception {
    Map<String, JsonNode> docs = documents();
    JsonNode isvc = docs.values().stream().filter(d -> d.get("kind").asText().equals("InferenceService")).findFirst()
        .orElseThrow();
    JsonNode model = isvc.path("spec").path("predictor").path("model");
    JsonNode runtime = docs.get("ServingRuntime/" + model.path("runtime").asText());
    assertTrue(runtime != null, "the ServingRuntime the InferenceService names");
    assertTrue(runtime.path("spec").path("protocolVersions").toString().contains("grpc-v2"));
    assertEquals(model.path("modelFormat").path("name").asText(),
        runtime.path("spec").path("supportedModelFormats").get(0).path("name").asText());
    JsonNode c = runtime.path("spec").path("containers").get(0);
    assertEquals("kserve-container", c.path("name").asText());
    assertEquals("h2c", c.path("ports").get(0).path("name").asText(), "KServe sends gRPC to the h2c port");
    assertEquals(9000, c.path("ports").get(0).path("containerPort").asInt());
    assertTrue(c.path("env").toString().contains("/mnt/models"), "repository at KServe's model mount");
  }

  @Test
  void dockerfilesPackageTheApp() throws Exception {
    for (String f : List.of("Dockerfile.jvm", "Dockerfile.cuda")) {
      String text = Files.readString(DEPLOY.resolve("docker").resolve(f));
      assertTrue(text.lines().anyMatch(l -> l.startsWith("FROM ")), f);
      assertTrue(text.contains("COPY --chown=pruneserve target/quarkus-app/ /opt/pruneserve/"), f);
      assertTrue(text.contains("EXPOSE 9000 8080"), f);
      assertTrue(text.contains("quarkus-run.jar"), f);
    }
    assertTrue(Files.readString(DEPLOY.resolve("docker/Dockerfile.cuda")).contains("PRUNESERVE_ORT_DEVICE=cuda"));
  }
}
