package dev.pruneserve.grpc;

import dev.pruneserve.api.inference.DataType;
import dev.pruneserve.api.inference.InferStatistics;
import dev.pruneserve.api.inference.MemoryUsage;
import dev.pruneserve.api.inference.ModelConfig;
import dev.pruneserve.api.inference.ModelInput;
import dev.pruneserve.api.inference.ModelMetadataResponse;
import dev.pruneserve.api.inference.ModelOutput;
import dev.pruneserve.api.inference.ModelStatistics;
import dev.pruneserve.api.inference.StatisticDuration;
import dev.pruneserve.model.ModelStats;
import dev.pruneserve.model.ModelView;
import dev.pruneserve.tensor.TensorSpec;
import java.util.Arrays;

/** Domain model descriptions to the v2 metadata, Triton config and statistics messages. */
final class ModelInfoWire {
  static final String PLATFORM = "onnxruntime_onnx";
  static final String BACKEND = "onnxruntime";

  private ModelInfoWire() {}

  static ModelMetadataResponse metadata(ModelView v) {
    ModelMetadataResponse.Builder b = ModelMetadataResponse.newBuilder()
        .setName(v.name()).addAllVersions(v.versions()).setPlatform(PLATFORM);
    v.inputs().forEach(s -> b.addInputs(tensorMetadata(s)));
    v.outputs().forEach(s -> b.addOutputs(tensorMetadata(s)));
    return b.build();
  }

  /** Triton convention: with max_batch_size > 0 the dims leave out the leading batch dimension. */
  static ModelConfig config(ModelView v) {
    int maxBatch = v.config().maxBatchSizeOrDefault();
    ModelConfig.Builder b = ModelConfig.newBuilder().setName(v.name()).setPlatform(PLATFORM)
        .setBackend(BACKEND).setMaxBatchSize(maxBatch);
    for (TensorSpec s : v.inputs()) {
      b.addInput(ModelInput.newBuilder().setName(s.name()).setDataType(configType(s))
          .addAllDims(dims(s, maxBatch)));
    }
    for (TensorSpec s : v.outputs()) {
      b.addOutput(ModelOutput.newBuilder().setName(s.name()).setDataType(configType(s))
          .addAllDims(dims(s, maxBatch)));
    }
    return b.build();
  }

  static ModelStatistics statistics(ModelStats s, long memoryBytes) {
    ModelStatistics.Builder b = ModelStatistics.newBuilder()
        .setName(s.name()).setVersion(s.version())
        .setLastInference(s.lastInferenceMs())
        .setInferenceCount(s.inferenceCount())
        .setExecutionCount(s.executionCount())
        .setInferenceStats(InferStatistics.newBuilder()
            .setSuccess(duration(s.success()))
            .setFail(duration(s.fail()))
            .setQueue(StatisticDuration.getDefaultInstance())
            .setComputeInfer(duration(s.computeInfer())));
    if (memoryBytes > 0) {
      b.addMemoryUsage(MemoryUsage.newBuilder().setType("CPU").setId(0).setByteSize(memoryBytes));
    }
    return b.build();
  }

  private static StatisticDuration duration(ModelStats.Duration d) {
    return StatisticDuration.newBuilder().setCount(d.count()).setNs(d.nanos()).build();
  }

  private static ModelMetadataResponse.TensorMetadata tensorMetadata(TensorSpec s) {
    return ModelMetadataResponse.TensorMetadata.newBuilder().setName(s.name())
        .setDatatype(s.type().wireName())
        .addAllShape(Arrays.stream(s.shape()).boxed().toList()).build();
  }

  private static Iterable<Long> dims(TensorSpec s, int maxBatch) {
    long[] shape = s.shape();
    int from = maxBatch > 0 && shape.length > 0 ? 1 : 0;
    return Arrays.stream(shape, from, shape.length).boxed().toList();
  }

  private static DataType configType(TensorSpec s) {
    return s.type() == dev.pruneserve.tensor.DataType.BYTES
        ? DataType.TYPE_STRING : DataType.valueOf("TYPE_" + s.type().wireName());
  }
}
