package dev.pruneserve.runtime;

import ai.onnxruntime.OrtException;
import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * What callers may see of an ONNX Runtime failure: a rejected input (ORT's INVALID_ARGUMENT, e.g. a
 * shape it cannot broadcast) keeps ORT's explanation with its C++ source locations and function
 * names removed; anything else is INTERNAL with a generic sentence, the native text going to the
 * log only. Stateless.
 */
final class OrtMessages {
  private static final Logger LOG = Logger.getLogger(OrtMessages.class);
  /** A C++ source location with the function signature after it: {@code a/b.cc:12 void ns::F(int, ...)}. */
  private static final Pattern LOCATION_AND_SIGNATURE = Pattern.compile(
      "\\S*\\.(cc|cpp|h|hpp):\\d+\\s+[^()]*?onnxruntime::[^(]*\\([^)]*\\)");
  /** Left-over locations, qualified names, ORT's preambles and file paths. */
  private static final Pattern NATIVE = Pattern.compile("\\S*\\.(cc|cpp|h|hpp):\\d+|onnxruntime::[\\w:<>]+"
      + "|\\[ONNXRuntimeError\\]\\s*:\\s*\\d+\\s*:|Error code - ORT_\\w+ - message:|Load model from \\S+ failed:"
      + "|(?<=\\s|^)/[^\\s:]+");

  private OrtMessages() {}

  /** ORT's message without source locations, function names and error-code preambles. */
  static String clean(String message) {
    String m = message == null ? "" : LOCATION_AND_SIGNATURE.matcher(message).replaceAll("");
    m = NATIVE.matcher(m).replaceAll("");
    return m.replaceAll("\\s+", " ").replaceAll("^[\\s:]+", "").trim();
  }

  /**
   * A kernel's complaint about the shapes it was given (broadcasting, reshaping, windows longer
   * than the input, index ranges): raised while running a node, caused by the request's dims.
   */
  private static final Pattern SHAPE_COMPLAINT = Pattern.compile("(?is).*running \\w+ node.*(broadcast|shape|"
      + "dimension|reshape|out of (range|bounds)|too (short|small|large)|must be (>=|<=|less|greater)|pads|kernel"
      + ").*");
  /** The node ORT names in "Non-zero status code returned while running Conv node. Name:'conv1'". */
  private static final Pattern NODE = Pattern.compile("running (\\w+) node\\. Name:'([^']*)'");

  /** The failure of running {@code label}, as callers may see it. */
  static ServingException runFailure(String label, OrtException e) {
    if (e.getCode() == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT) {
      return ServingException.invalid("model " + label + " rejected the inputs: " + clean(e.getMessage()));
    }
    String m = e.getMessage() == null ? "" : e.getMessage();
    if (SHAPE_COMPLAINT.matcher(m).matches()) {
      var node = NODE.matcher(m);
      String where = node.find() ? " at " + node.group(1) + " node '" + node.group(2) + "'" : "";
      String status = m.contains("Status Message:") ? m.substring(m.indexOf("Status Message:") + 15) : m;
      LOG.debugf("model %s failed on the request's shapes: %s", label, m);
      return ServingException.invalid("model " + label + " cannot run on inputs of these shapes" + where + ": "
          + clean(status));
    }
    if (m.contains("Failed to allocate memory")) {
      LOG.errorf("model %s ran out of memory: %s", label, m);
      return new ServingException(ErrorKind.RESOURCE_EXHAUSTED, "model " + label + " could not allocate memory for"
          + " these inputs; send fewer or smaller inputs");
    }
    LOG.errorf("model %s failed to run: %s", label, e.getMessage());
    return new ServingException(ErrorKind.INTERNAL, "model " + label + " failed to run inside ONNX Runtime; see the"
        + " server log");
  }
}
