package dev.pruneserve.bench;

import com.google.protobuf.ByteString;
import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.InferTensorContents;
import dev.pruneserve.api.inference.ModelConfigRequest;
import dev.pruneserve.api.inference.ModelInferRequest;
import dev.pruneserve.api.inference.ModelInferRequest.InferInputTensor;
import dev.pruneserve.api.inference.ModelMetadataRequest;
import dev.pruneserve.api.inference.ModelStatisticsRequest;
import dev.pruneserve.api.inference.RepositoryModelLoadRequest;
import dev.pruneserve.api.inference.RepositoryModelUnloadRequest;
import dev.pruneserve.api.v1.CalibrationSpec;
import dev.pruneserve.api.v1.CancelPruneRequest;
import dev.pruneserve.api.v1.DeleteAliasRequest;
import dev.pruneserve.api.v1.DeleteVariantRequest;
import dev.pruneserve.api.v1.EmbedRequest;
import dev.pruneserve.api.v1.EmbeddingGrpc;
import dev.pruneserve.api.v1.GenerateRequest;
import dev.pruneserve.api.v1.GenerationGrpc;
import dev.pruneserve.api.v1.GetAliasRequest;
import dev.pruneserve.api.v1.GetPruneJobRequest;
import dev.pruneserve.api.v1.GetVariantRequest;
import dev.pruneserve.api.v1.PinVariantRequest;
import dev.pruneserve.api.v1.PruneOptions;
import dev.pruneserve.api.v1.PruneRequest;
import dev.pruneserve.api.v1.PruningGrpc;
import dev.pruneserve.api.v1.SamplingParams;
import dev.pruneserve.api.v1.SetAliasRequest;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.stub.ClientCalls;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * The attack suite's bad inputs, over every RPC: undecodable bytes (invalid UTF-8, truncated,
 * garbage) on each method, and requests that decode but make no sense (unknown names, path
 * traversal, wrong types and shapes, lying sizes, zero divisors, absurd limits and recipes). Each
 * probe runs its call and returns normally only when the server accepted it.
 */
final class BadInputs {
  /** One bad input; {@code call} throws StatusRuntimeException when the server refuses it. */
  record Probe(String name, Callable<Object> call) {}

  static final byte[][] UNDECODABLE = {{0x0a, 0x02, (byte) 0xff, (byte) 0xfe}, {0x0a, 0x64, 0x41}, {0x0f, 0x13, 0x37}};

  private BadInputs() {}

  /**
   * @param mlp a served FP32 model with input x [batch, 16]
   * @param div a served model y = a / b (INT32 [1])
   * @param llm a served decoder (Generate), or null to skip those probes
   */
  static List<Probe> all(Channel ch, String mlp, String div, String llm) {
    List<Probe> out = new ArrayList<>(undecodable(ch));
    var inf = GRPCInferenceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.MINUTES);
    var pr = PruningGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.MINUTES);
    var gen = GenerationGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.MINUTES);
    var emb = EmbeddingGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.MINUTES);
    InferInputTensor x = InferInputTensor.newBuilder().setName("x").setDatatype("FP32").addShape(1).addShape(16)
        .build();
    ByteString x64 = ByteString.copyFrom(new byte[64]);
    for (String name : List.of("", "ghost", "../etc/passwd", "a/b", "mlp\u0000", "x".repeat(5000), "ghost@v1")) {
      out.add(new Probe("ModelInfer name '" + shortName(name) + "'", () -> inf.modelInfer(ModelInferRequest.newBuilder()
          .setModelName(name).addInputs(x).addRawInputContents(x64).build())));
      out.add(new Probe("ModelMetadata name '" + shortName(name) + "'",
          () -> inf.modelMetadata(ModelMetadataRequest.newBuilder().setName(name).build())));
      out.add(new Probe("RepositoryModelLoad '" + shortName(name) + "'",
          () -> inf.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName(name).build())));
    }
    for (String v : List.of("0", "-1", "abc", "9999999999999999999", "007x")) {
      out.add(new Probe("ModelInfer version " + v, () -> inf.modelInfer(ModelInferRequest.newBuilder()
          .setModelName(mlp).setModelVersion(v).addInputs(x).addRawInputContents(x64).build())));
    }
    List<InferInputTensor> badTensors = List.of(x.toBuilder().setName("y").build(),
        x.toBuilder().setDatatype("INT64").build(), x.toBuilder().setDatatype("FP99").build(),
        x.toBuilder().setDatatype("BYTES").build(), x.toBuilder().clearShape().addShape(1).addShape(8).build(),
        x.toBuilder().clearShape().addShape(-1).addShape(16).build(),
        x.toBuilder().clearShape().addShape(1L << 40).addShape(16).build(),
        x.toBuilder().clearShape().addShape(Long.MAX_VALUE).addShape(Long.MAX_VALUE).build(),
        x.toBuilder().clearShape().addShape(1).addShape(16).addShape(1).build(),
        x.toBuilder().clearShape().build(), x.toBuilder().clearShape().addShape(0).addShape(16).build());
    for (InferInputTensor t : badTensors) {
      out.add(new Probe("ModelInfer tensor " + t.getName() + " " + t.getDatatype() + " " + t.getShapeList(),
          () -> inf.modelInfer(ModelInferRequest.newBuilder().setModelName(mlp).addInputs(t).addRawInputContents(x64)
              .build())));
    }
    for (int bytes : new int[] {0, 3, 63, 65, 1 << 20}) {
      out.add(new Probe("ModelInfer raw " + bytes + " bytes for 64", () -> inf.modelInfer(ModelInferRequest
          .newBuilder().setModelName(mlp).addInputs(x).addRawInputContents(ByteString.copyFrom(new byte[bytes]))
          .build())));
    }
    out.add(new Probe("ModelInfer raw and typed contents", () -> inf.modelInfer(ModelInferRequest.newBuilder()
        .setModelName(mlp).addInputs(x.toBuilder().setContents(InferTensorContents.newBuilder().addFp32Contents(1)))
        .addRawInputContents(x64).build())));
    out.add(new Probe("ModelInfer typed contents short", () -> inf.modelInfer(ModelInferRequest.newBuilder()
        .setModelName(mlp).addInputs(x.toBuilder().setContents(InferTensorContents.newBuilder().addFp32Contents(1)))
        .build())));
    out.add(new Probe("ModelInfer two raw buffers for one input", () -> inf.modelInfer(ModelInferRequest.newBuilder()
        .setModelName(mlp).addInputs(x).addRawInputContents(x64).addRawInputContents(x64).build())));
    out.add(new Probe("ModelInfer input twice", () -> inf.modelInfer(ModelInferRequest.newBuilder().setModelName(mlp)
        .addInputs(x).addInputs(x).addRawInputContents(x64).addRawInputContents(x64).build())));
    out.add(new Probe("ModelInfer no inputs", () -> inf.modelInfer(ModelInferRequest.newBuilder().setModelName(mlp)
        .build())));
    out.add(new Probe("ModelInfer unknown output", () -> inf.modelInfer(ModelInferRequest.newBuilder()
        .setModelName(mlp).addInputs(x).addRawInputContents(x64)
        .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("nope")).build())));
    for (int[] ab : new int[][] {{7, 0}, {Integer.MIN_VALUE, -1}, {0, 0}}) {
      out.add(new Probe("ModelInfer integer division " + ab[0] + " / " + ab[1], () -> inf.modelInfer(
          ModelInferRequest.newBuilder().setModelName(div).addInputs(int32("a")).addInputs(int32("b"))
              .addRawInputContents(int32(ab[0])).addRawInputContents(int32(ab[1])).build())));
    }
    out.add(new Probe("ModelConfig ghost", () -> inf.modelConfig(ModelConfigRequest.newBuilder().setName("ghost")
        .build())));
    out.add(new Probe("ModelStatistics ghost", () -> inf.modelStatistics(ModelStatisticsRequest.newBuilder()
        .setName("ghost").build())));
    out.add(new Probe("RepositoryModelUnload ghost", () -> inf.repositoryModelUnload(RepositoryModelUnloadRequest
        .newBuilder().setModelName("ghost").build())));
    out.add(new Probe("RepositoryModelLoad file: parameter", () -> inf.repositoryModelLoad(RepositoryModelLoadRequest
        .newBuilder().setModelName(mlp).putParameters("file:1/model.onnx",
            dev.pruneserve.api.inference.ModelRepositoryParameter.newBuilder().setBytesParam(x64).build())
        .build())));
    out.add(new Probe("RepositoryIndex of another repository", () -> inf.repositoryIndex(
        dev.pruneserve.api.inference.RepositoryIndexRequest.newBuilder().setRepositoryName("other").build())));
    out.addAll(pruning(pr, mlp));
    out.addAll(generation(gen, mlp, llm));
    for (EmbedRequest r : List.of(EmbedRequest.newBuilder().setModel("ghost").addTexts("a").build(),
        EmbedRequest.newBuilder().setModel(mlp).addTexts("a").build(), EmbedRequest.newBuilder().setModel(mlp)
            .build())) {
      out.add(new Probe("Embed " + r.getModel() + " x" + r.getTextsCount(), () -> emb.embed(r)));
    }
    return out;
  }

  private static List<Probe> pruning(PruningGrpc.PruningBlockingStub pr, String mlp) {
    List<Probe> out = new ArrayList<>();
    PruneRequest base = PruneRequest.newBuilder().setModel(mlp).setMethod("magnitude-l1").setRatio(0.5).build();
    List<PruneRequest> bad = List.of(base.toBuilder().setModel("ghost").build(),
        base.toBuilder().setModel("../x").build(), base.toBuilder().setMethod("nope").build(),
        base.toBuilder().setMethod("").build(), base.toBuilder().setRatio(0).build(),
        base.toBuilder().setRatio(1).build(), base.toBuilder().setRatio(2).build(),
        base.toBuilder().setRatio(-0.5).build(), base.toBuilder().setRatio(Double.NaN).build(),
        base.toBuilder().setRatio(1e-300).build(), base.toBuilder().setVersion("42").build(),
        base.toBuilder().setOptions(PruneOptions.newBuilder().setFirstLayer(50).setEndLayer(60)).build(),
        base.toBuilder().setOptions(PruneOptions.newBuilder().setFirstLayer(3).setEndLayer(1)).build(),
        base.toBuilder().setOptions(PruneOptions.newBuilder().setFlapMetric("nope")).build(),
        base.toBuilder().setMethod("flap").build(), base.toBuilder().setMethod("ifso").build(),
        base.toBuilder().setActivateAs("bad@alias").build(), base.toBuilder().setActivateAs(mlp).build(),
        base.toBuilder().setMethod("wanda-sp").setCalibration(CalibrationSpec.newBuilder()
            .addSequences(CalibrationSpec.TokenSequence.newBuilder().addIds(-5))).build());
    for (PruneRequest r : bad) {
      out.add(new Probe("Prune " + r.getModel() + " " + r.getMethod() + " " + r.getRatio() + " "
          + r.getOptions().toString().replace('\n', ' ') + r.getActivateAs(), () -> {
            pr.prune(r).forEachRemaining(e -> {});
            return null;
          }));
    }
    for (String id : List.of("", "nope", "../../x")) {
      out.add(new Probe("GetPruneJob '" + id + "'", () -> pr.getPruneJob(GetPruneJobRequest.newBuilder()
          .setJobId(id).build())));
      out.add(new Probe("CancelPrune '" + id + "'", () -> pr.cancelPrune(CancelPruneRequest.newBuilder()
          .setJobId(id).build())));
    }
    for (String v : List.of("", "ghost@x", mlp + "@nope", "../" + mlp, mlp)) {
      out.add(new Probe("GetVariant '" + v + "'", () -> pr.getVariant(GetVariantRequest.newBuilder().setName(v)
          .build())));
      out.add(new Probe("DeleteVariant '" + v + "'", () -> pr.deleteVariant(DeleteVariantRequest.newBuilder()
          .setName(v).build())));
      out.add(new Probe("PinVariant '" + v + "'", () -> pr.pinVariant(PinVariantRequest.newBuilder().setName(v)
          .setPinned(true).build())));
    }
    List<SetAliasRequest> aliases = List.of(SetAliasRequest.newBuilder().setAlias("a").setTarget("ghost").build(),
        SetAliasRequest.newBuilder().setAlias(mlp).setTarget(mlp).build(),
        SetAliasRequest.newBuilder().setAlias("a@b").setTarget(mlp).build(),
        SetAliasRequest.newBuilder().setAlias("").setTarget(mlp).build(),
        SetAliasRequest.newBuilder().setAlias("../a").setTarget(mlp).build(),
        SetAliasRequest.newBuilder().setAlias("a").setTarget(mlp).setExpectedCurrent("other").build());
    for (SetAliasRequest r : aliases) {
      out.add(new Probe("SetAlias '" + r.getAlias() + "' -> '" + r.getTarget() + "'", () -> pr.setAlias(r)));
    }
    out.add(new Probe("GetAlias ghost", () -> pr.getAlias(GetAliasRequest.newBuilder().setAlias("ghost").build())));
    out.add(new Probe("DeleteAlias ghost", () -> pr.deleteAlias(DeleteAliasRequest.newBuilder().setAlias("ghost")
        .build())));
    return out;
  }

  private static List<Probe> generation(GenerationGrpc.GenerationBlockingStub gen, String mlp, String llm) {
    List<Probe> out = new ArrayList<>();
    List<GenerateRequest> bad = new ArrayList<>(List.of(GenerateRequest.newBuilder().setModel("ghost")
        .setPrompt("a").build(), GenerateRequest.newBuilder().setModel(mlp).setPrompt("a").build()));
    if (llm != null) {
      GenerateRequest base = GenerateRequest.newBuilder().setModel(llm).setPrompt("Once").build();
      SamplingParams p = SamplingParams.newBuilder().setMaxNewTokens(4).build();
      bad.addAll(List.of(base.toBuilder().setPrompt("x".repeat(300_000)).build(),
          base.toBuilder().setPrompt("the ".repeat(4000)).build(),
          base.toBuilder().setParams(p.toBuilder().setMaxNewTokens(1_000_000)).build(),
          base.toBuilder().setParams(p.toBuilder().setTemperature(-1)).build(),
          base.toBuilder().setParams(p.toBuilder().setTemperature(Float.NaN)).build(),
          base.toBuilder().setParams(p.toBuilder().setTopP(2)).build(),
          base.toBuilder().setParams(p.toBuilder().setTopP(Float.NaN)).build(),
          base.toBuilder().setParams(p.toBuilder().setRepetitionPenalty(-3)).build(),
          base.toBuilder().setParams(p.toBuilder().addStop("")).build(),
          base.toBuilder().setVersion("nope").build()));
    }
    for (GenerateRequest r : bad) {
      String label = r.getModel() + " prompt " + r.getPrompt().length() + " chars " + r.getParams().toString()
          .replace('\n', ' ') + r.getVersion();
      out.add(new Probe("GenerateUnary " + label, () -> gen.generateUnary(r)));
      out.add(new Probe("Generate " + label, () -> {
        gen.generate(r).forEachRemaining(e -> {});
        return null;
      }));
    }
    return out;
  }

  /** Each undecodable payload on each unary and server-streaming method of the four services. */
  private static List<Probe> undecodable(Channel ch) {
    List<Probe> out = new ArrayList<>();
    for (ServiceDescriptor s : List.of(GRPCInferenceServiceGrpc.getServiceDescriptor(),
        PruningGrpc.getServiceDescriptor(), GenerationGrpc.getServiceDescriptor(),
        EmbeddingGrpc.getServiceDescriptor())) {
      for (MethodDescriptor<?, ?> m : s.getMethods()) {
        MethodDescriptor.MethodType type = m.getType();
        if (type != MethodDescriptor.MethodType.UNARY && type != MethodDescriptor.MethodType.SERVER_STREAMING) {
          continue; // the bidi ModelStreamInfer answers in-band: UndecodableRequestTest
        }
        MethodDescriptor<byte[], byte[]> raw = dev.pruneserve.testing.RawCalls.method(m.getFullMethodName(), type);
        boolean stringField1 = m.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> pm
            && pm.getMessagePrototype() instanceof com.google.protobuf.Message msg
            && msg.getDescriptorForType().findFieldByNumber(1) != null
            && msg.getDescriptorForType().findFieldByNumber(1)
                .getType() == com.google.protobuf.Descriptors.FieldDescriptor.Type.STRING;
        for (byte[] bad : UNDECODABLE) {
          if (bad == UNDECODABLE[0] && !stringField1) {
            continue; // invalid UTF-8 in field 1 is only invalid where field 1 is a string (else: unknown field)
          }
          out.add(new Probe(m.getFullMethodName() + " undecodable " + bad.length + " bytes", () -> {
            if (type == MethodDescriptor.MethodType.UNARY) {
              return ClientCalls.blockingUnaryCall(ch, raw, io.grpc.CallOptions.DEFAULT, bad);
            }
            ClientCalls.blockingServerStreamingCall(ch, raw, io.grpc.CallOptions.DEFAULT, bad)
                .forEachRemaining(r -> {});
            return null;
          }));
        }
      }
    }
    return out;
  }

  private static InferInputTensor int32(String name) {
    return InferInputTensor.newBuilder().setName(name).setDatatype("INT32").addShape(1).build();
  }

  private static ByteString int32(int v) {
    return ByteString.copyFrom(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, v));
  }

  private static String shortName(String s) {
    return s.length() > 24 ? s.substring(0, 8) + "…(" + s.length() + " chars)" : s.replace("\u0000", "\\0");
  }
}
