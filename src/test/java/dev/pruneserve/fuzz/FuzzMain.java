package dev.pruneserve.fuzz;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.model.Lease;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.model.Warmup;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Shapes;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Child process of the fuzz bench: serves each model of a list through pruneserve's own load path
 * (ModelRegistry with warm-up, integer-division guards) and runs it on edge-case inputs (zeros,
 * ones, minus ones, NaN, huge values, the type's minimum, empty dynamic dimensions). Before each
 * model it appends "start <index>" to the journal and after it "done <index> <outcome>", so the
 * parent knows which model took the process down if it dies. Arguments: list file, first index,
 * journal file.
 */
public final class FuzzMain {
  private FuzzMain() {}

  public static void main(String[] args) throws IOException {
    List<String> models = Files.readAllLines(Path.of(args[0]));
    int first = Integer.parseInt(args[1]);
    Path journal = Path.of(args[2]);
    OrtRuntime rt = OrtRuntime.cpu(1);
    try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(journal, StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND), true)) {
      for (int i = first; i < models.size(); i++) {
        out.println("start " + i);
        out.flush();
        out.println("done " + i + " " + run(Path.of(models.get(i)), rt));
      }
    }
  }

  /** "refused" (load refused with a status), "served" (every input answered or refused precisely). */
  private static String run(Path model, OrtRuntime rt) throws IOException {
    Path root = Files.createTempDirectory("pruneserve-fuzz");
    try {
      Files.createDirectories(root.resolve("m/1"));
      Files.copy(model, root.resolve("m/1/model.onnx"));
      ModelRegistry registry = new ModelRegistry(new ModelRepository(root), rt, Warmup::run);
      try {
        registry.load("m");
      } catch (ServingException | IllegalArgumentException e) {
        return "refused";
      }
      int answered = 0;
      int refused = 0;
      int errors = 0;
      try (Lease lease = registry.acquire("m", "")) {
        for (Case c : Case.values()) {
          try {
            lease.session().run(inputs(lease.session(), c), outputs(lease.session()));
            answered++;
          } catch (ServingException e) {
            refused++;
          } catch (RuntimeException e) { // inputs this harness cannot build (e.g. too large)
            errors++;
          }
        }
      } finally {
        registry.unloadAll();
      }
      return "served " + answered + " " + refused + " " + errors;
    } finally {
      try (var files = Files.walk(root)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  enum Case {
    ZEROS, ONES, MINUS_ONES, NAN, HUGE, MINIMUM, EMPTY
  }

  private static LinkedHashSet<String> outputs(ModelSession s) {
    LinkedHashSet<String> o = new LinkedHashSet<>();
    s.outputs().forEach(t -> o.add(t.name()));
    return o;
  }

  private static Map<String, Tensor> inputs(ModelSession s, Case c) {
    Map<String, Tensor> in = new LinkedHashMap<>();
    for (TensorSpec spec : s.inputs()) {
      long[] shape = spec.shape();
      for (int i = 0; i < shape.length; i++) {
        shape[i] = shape[i] < 0 ? (c == Case.EMPTY ? 0 : 2) : shape[i];
      }
      int n = (int) Math.min(Shapes.elementCount(shape), 1 << 20);
      if (spec.type() == DataType.BYTES) {
        List<byte[]> strings = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          strings.add(c == Case.ZEROS ? new byte[0] : "x".repeat(c == Case.HUGE ? 1000 : 1).getBytes());
        }
        in.put(spec.name(), Tensor.bytes(spec.name(), shape, strings));
        continue;
      }
      ByteBuffer b = ByteBuffer.allocate(n * spec.type().byteSize()).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < n; i++) {
        put(b, spec.type(), c);
      }
      b.flip();
      in.put(spec.name(), Tensor.fixed(spec.name(), spec.type(), shape, b));
    }
    return in;
  }

  private static void put(ByteBuffer b, DataType t, Case c) {
    double v = switch (c) {
      case ZEROS, EMPTY -> 0;
      case ONES -> 1;
      case MINUS_ONES -> -1;
      case NAN -> Double.NaN;
      case HUGE -> 1e30;
      case MINIMUM -> Double.NEGATIVE_INFINITY;
    };
    switch (t) {
      case FP32 -> b.putFloat((float) v);
      case FP64 -> b.putDouble(v);
      case FP16, BF16 -> b.putShort(Double.isNaN(v) ? (short) 0x7e00 : (short) (v == 0 ? 0 : 0x3c00));
      case BOOL -> b.put((byte) (v == 0 || Double.isNaN(v) ? 0 : 1));
      case INT8, UINT8 -> b.put(c == Case.MINIMUM ? Byte.MIN_VALUE : c == Case.HUGE ? Byte.MAX_VALUE : (byte) nan(v));
      case INT16, UINT16 -> b.putShort(c == Case.MINIMUM ? Short.MIN_VALUE : c == Case.HUGE ? Short.MAX_VALUE
          : (short) nan(v));
      case INT32, UINT32 -> b.putInt(c == Case.MINIMUM ? Integer.MIN_VALUE : c == Case.HUGE ? Integer.MAX_VALUE
          : (int) nan(v));
      case INT64, UINT64 -> b.putLong(c == Case.MINIMUM ? Long.MIN_VALUE : c == Case.HUGE ? Long.MAX_VALUE
          : (long) nan(v));
      default -> throw new IllegalStateException(t.name());
    }
  }

  private static double nan(double v) {
    return Double.isNaN(v) ? 0 : v;
  }
}
