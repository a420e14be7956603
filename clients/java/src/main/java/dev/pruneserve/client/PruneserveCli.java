package dev.pruneserve.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelInferRequest;
import dev.pruneserve.api.inference.ModelInferResponse;
import dev.pruneserve.api.inference.ModelMetadataRequest;
import dev.pruneserve.api.inference.ModelMetadataResponse;
import dev.pruneserve.api.v1.GenerateRequest;
import dev.pruneserve.api.v1.GenerateResponse;
import dev.pruneserve.api.v1.GenerationGrpc;
import dev.pruneserve.api.v1.ListVariantsRequest;
import dev.pruneserve.api.v1.PruneEvent;
import dev.pruneserve.api.v1.PruneRequest;
import dev.pruneserve.api.v1.PruningGrpc;
import dev.pruneserve.api.v1.SamplingParams;
import dev.pruneserve.api.v1.SetAliasRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * pruneserve from plain grpc-java: one task per command, one JSON object on stdout (progress and
 * streamed text on stderr), exit 1 with the gRPC status on errors, 2 on bad usage.
 *
 * <pre>
 * java -jar pruneserve-java-client.jar [--target host:port] [--token T] infer --model M [--batch 2]
 *   generate --model M --prompt "..." [--max-new-tokens 32] [--seed 1]
 *   prune --model M --method flap --ratio 0.2 [--request '{"calibration":{...}}']
 *   variants [--model M]
 *   alias --alias A --to TARGET [--expected CURRENT]
 * </pre>
 */
public final class PruneserveCli {
  private PruneserveCli() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = new HashMap<>(Map.of("target", "localhost:9000"));
    String command = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].startsWith("--") && i + 1 < args.length) {
        o.put(args[i].substring(2), args[++i]);
      } else {
        command = args[i];
      }
    }
    if (command == null || !List.of("infer", "generate", "prune", "variants", "alias").contains(command)) {
      System.err.println("usage: pruneserve-java-client [--target host:port] [--token T]"
          + " infer|generate|prune|variants|alias ...");
      System.exit(2);
    }
    ManagedChannel channel = ManagedChannelBuilder.forTarget(o.get("target")).usePlaintext()
        .maxInboundMessageSize(256 << 20).build();
    try {
      System.out.println(switch (command) {
        case "infer" -> infer(auth(GRPCInferenceServiceGrpc.newBlockingStub(channel), o), o);
        case "generate" -> generate(auth(GenerationGrpc.newBlockingStub(channel), o), o);
        case "prune" -> prune(auth(PruningGrpc.newBlockingStub(channel), o), o);
        case "variants" -> JsonFormat.printer().omittingInsignificantWhitespace().print(auth(PruningGrpc
            .newBlockingStub(channel), o).listVariants(ListVariantsRequest.newBuilder()
            .setModel(o.getOrDefault("model", "")).build()));
        default -> alias(auth(PruningGrpc.newBlockingStub(channel), o), o);
      });
    } catch (StatusRuntimeException e) {
      System.err.println("error: " + e.getStatus().getCode() + ": " + e.getStatus().getDescription());
      System.exit(1);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Adds {@code authorization: Bearer <token>} when --token is given. */
  private static <S extends AbstractStub<S>> S auth(S stub, Map<String, String> o) {
    if (!o.containsKey("token")) {
      return stub;
    }
    Metadata h = new Metadata();
    h.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + o.get("token"));
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
  }

  /** ModelInfer with raw FP32 x[b, i] = 0.01·(b·width + i); outputs decoded as float lists. */
  private static String infer(GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub s, Map<String, String> o) {
    ModelMetadataResponse meta = s.modelMetadata(ModelMetadataRequest.newBuilder().setName(o.get("model")).build());
    var input = meta.getInputs(0);
    int batch = Integer.parseInt(o.getOrDefault("batch", "2"));
    int width = (int) input.getShape(input.getShapeCount() - 1);
    ByteBuffer x = ByteBuffer.allocate(batch * width * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < batch * width; i++) {
      x.putFloat(0.01f * i);
    }
    ModelInferResponse r = s.modelInfer(ModelInferRequest.newBuilder().setModelName(o.get("model")).setId("java-1")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName(input.getName()).setDatatype("FP32")
            .addShape(batch).addShape(width))
        .addRawInputContents(ByteString.copyFrom(x.array())).build());
    StringBuilder out = new StringBuilder("{\"model\":\"" + r.getModelName() + "\",\"id\":\"" + r.getId()
        + "\",\"outputs\":{");
    for (int k = 0; k < r.getOutputsCount(); k++) {
      var t = r.getOutputs(k);
      ByteBuffer raw = r.getRawOutputContents(k).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      List<String> data = new ArrayList<>();
      while (raw.remaining() >= 4) {
        data.add(Float.toString(raw.getFloat()));
      }
      out.append(k > 0 ? "," : "").append('"').append(t.getName()).append("\":{\"shape\":")
          .append(t.getShapeList()).append(",\"data\":").append(data).append('}');
    }
    return out.append("}}").toString();
  }

  /** Streams tokens to stderr as they arrive; returns text, token count and finish reason. */
  private static String generate(GenerationGrpc.GenerationBlockingStub s, Map<String, String> o) {
    SamplingParams.Builder p = SamplingParams.newBuilder().setMaxNewTokens(Integer.parseInt(o.getOrDefault(
        "max-new-tokens", "32")));
    if (o.containsKey("seed")) {
      p.setSeed(Long.parseLong(o.get("seed")));
    }
    Iterator<GenerateResponse> it = s.generate(GenerateRequest.newBuilder().setModel(o.get("model"))
        .setPrompt(o.getOrDefault("prompt", "")).setParams(p).build());
    StringBuilder text = new StringBuilder();
    int tokens = 0;
    String finish = "";
    while (it.hasNext()) {
      GenerateResponse r = it.next();
      if (r.hasToken()) {
        tokens++;
        text.append(r.getToken().getText());
        System.err.print(r.getToken().getText());
      } else {
        text.append(r.getSummary().getTrailingText());
        finish = r.getSummary().getFinishReason().name();
      }
    }
    System.err.println();
    return "{\"text\":" + quote(text.toString()) + ",\"tokens\":" + tokens + ",\"finish_reason\":\"" + finish + "\"}";
  }

  /** Prunes with a progress bar on stderr; returns the variant and the phases seen. */
  private static String prune(PruningGrpc.PruningBlockingStub s, Map<String, String> o) throws Exception {
    PruneRequest.Builder req = PruneRequest.newBuilder();
    if (o.containsKey("request")) {
      JsonFormat.parser().merge(o.get("request"), req);
    }
    req.setModel(o.get("model")).setMethod(o.get("method")).setRatio(Double.parseDouble(o.get("ratio")));
    List<String> phases = new ArrayList<>();
    Iterator<PruneEvent> it = s.prune(req.build());
    while (it.hasNext()) {
      PruneEvent e = it.next();
      if (e.hasProgress()) {
        var p = e.getProgress();
        if (phases.isEmpty() || !phases.get(phases.size() - 1).equals(p.getPhase())) {
          phases.add(p.getPhase());
        }
        int done = (int) Math.round(30 * p.getFraction());
        System.err.printf("\r[%s%s] %3.0f%% %-12s", "#".repeat(done), ".".repeat(30 - done), 100 * p.getFraction(),
            p.getPhase());
      } else if (e.hasDone()) {
        System.err.println();
        return "{\"job_id\":\"" + e.getJobId() + "\",\"variant\":\"" + e.getDone().getName() + "\",\"reused\":"
            + e.getDone().getReused() + ",\"phases\":" + phases.stream().map(PruneserveCli::quote).toList() + "}";
      }
    }
    throw new IllegalStateException("the Prune stream ended without a done event");
  }

  private static String alias(PruningGrpc.PruningBlockingStub s, Map<String, String> o) throws Exception {
    SetAliasRequest.Builder r = SetAliasRequest.newBuilder().setAlias(o.get("alias")).setTarget(o.get("to"));
    if (o.containsKey("expected")) {
      r.setExpectedCurrent(o.get("expected"));
    }
    return JsonFormat.printer().omittingInsignificantWhitespace().print(s.setAlias(r.build()));
  }

  private static String quote(String v) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : v.toCharArray()) {
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }
}
