package dev.pruneserve.pruning.cnn;

import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Control-flow bodies (If, Loop, Scan) read outer values without listing them as node inputs;
 * discovery must treat such captured values as read by an op it does not understand.
 */
final class Subgraphs {
  private Subgraphs() {}

  /** Every value name read inside a subgraph of a node of {@code graph}, mapped to that node. */
  static Map<String, NodeProto> captured(GraphProto graph) {
    Map<String, NodeProto> out = new LinkedHashMap<>();
    for (NodeProto n : graph.getNodeList()) {
      for (GraphProto body : bodies(n)) {
        readNames(body).forEach(v -> out.putIfAbsent(v, n));
      }
    }
    return out;
  }

  private static List<String> readNames(GraphProto body) {
    List<String> names = new ArrayList<>();
    for (NodeProto n : body.getNodeList()) {
      names.addAll(n.getInputList());
      bodies(n).forEach(b -> names.addAll(readNames(b)));
    }
    body.getOutputList().forEach(o -> names.add(o.getName()));
    return names;
  }

  private static List<GraphProto> bodies(NodeProto n) {
    List<GraphProto> out = new ArrayList<>();
    for (AttributeProto a : n.getAttributeList()) {
      out.addAll(a.getGraphsList());
      if (a.hasG()) {
        out.add(a.getG());
      }
    }
    return out;
  }
}
