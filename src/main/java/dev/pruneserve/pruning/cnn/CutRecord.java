package dev.pruneserve.pruning.cnn;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.StringStringEntryProto;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@link ChannelSurgery#remove} cut, carried in the pruned model's {@code metadata_props} until
 * the CNN flow has read it (reconstruction needs the dense indices a layer kept, whichever method
 * chose them and however it trained the weights): one entry per initializer and axis, key {@code
 * pruneserve.cut:<axis>:<initializer>}, value the removed indices "i,j,…". {@link #strip} removes
 * the entries before a model is stored. Stateless.
 */
public final class CutRecord {
  static final String PREFIX = "pruneserve.cut:";

  private CutRecord() {}

  /** {@code m} with {@code cuts} recorded (replacing any earlier record). */
  static ModelProto record(ModelProto m, Map<String, Map<Integer, BitSet>> cuts) {
    ModelProto.Builder b = strip(m).toBuilder();
    cuts.forEach((init, axes) -> axes.forEach((axis, bits) -> b.addMetadataProps(StringStringEntryProto.newBuilder()
        .setKey(PREFIX + axis + ":" + init).setValue(bits.stream().mapToObj(Integer::toString).reduce((x, y) -> x
            + "," + y).orElse("")))));
    return b.build();
  }

  /** Per initializer, per axis: the dense indices removed (empty when {@code m} has no record). */
  public static Map<String, Map<Integer, BitSet>> read(ModelProto m) {
    Map<String, Map<Integer, BitSet>> out = new LinkedHashMap<>();
    for (StringStringEntryProto e : m.getMetadataPropsList()) {
      if (e.getKey().startsWith(PREFIX)) {
        String rest = e.getKey().substring(PREFIX.length());
        int colon = rest.indexOf(':');
        BitSet bits = new BitSet();
        for (String v : e.getValue().split(",")) {
          if (!v.isEmpty()) {
            bits.set(Integer.parseInt(v));
          }
        }
        out.computeIfAbsent(rest.substring(colon + 1), k -> new LinkedHashMap<>()).put(Integer.parseInt(rest
            .substring(0, colon)), bits);
      }
    }
    return out;
  }

  public static ModelProto strip(ModelProto m) {
    if (m.getMetadataPropsList().stream().noneMatch(e -> e.getKey().startsWith(PREFIX))) {
      return m;
    }
    ModelProto.Builder b = m.toBuilder().clearMetadataProps();
    m.getMetadataPropsList().stream().filter(e -> !e.getKey().startsWith(PREFIX)).forEach(b::addMetadataProps);
    return b.build();
  }
}
