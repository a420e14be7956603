package dev.pruneserve.model;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.NativeHazards;
import dev.pruneserve.session.CarryRun;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A session whose inputs feed hazardous operands ({@link NativeHazards.Guard}: integer divisors,
 * Trilu's k): every run and carried step first checks those inputs, and a 0 divisor (or −1 against
 * the type's minimum), or an extreme k, is refused with INVALID_ARGUMENT naming the input and the
 * node, before ONNX Runtime could crash and take the process down. Thread-safe as the wrapped session is; owns it (close closes it).
 */
final class GuardedSession implements ModelSession {
  private final ModelSession session;
  private final List<NativeHazards.Guard> guards;

  GuardedSession(ModelSession session, List<NativeHazards.Guard> guards) {
    this.session = session;
    this.guards = List.copyOf(guards);
  }

  /** Inputs that must not hold zeros (divisors; warm-up fills them with ones). */
  Set<String> guardedInputs() {
    return guards.stream().filter(g -> g.kind() == NativeHazards.Kind.DIVISOR).map(NativeHazards.Guard::input)
        .collect(Collectors.toSet());
  }

  @Override
  public List<TensorSpec> inputs() {
    return session.inputs();
  }

  @Override
  public List<TensorSpec> outputs() {
    return session.outputs();
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputNames) {
    check(inputs);
    return session.run(inputs, outputNames);
  }

  @Override
  public CarryRun openCarryRun(Map<String, String> carry, Map<String, Tensor> initial) {
    for (NativeHazards.Guard g : guards) {
      if (carry.containsValue(g.input())) { // fed from an output natively: never seen here
        throw ServingException.precondition("input '" + g.input() + "' feeds " + g.op() + " node '" + g.node()
            + "', whose operand must be checked, and it is carried from an output between steps; such a model"
            + " can only be run step by step with ModelInfer");
      }
    }
    check(initial);
    CarryRun run = session.openCarryRun(carry, initial);
    return new CarryRun() {
      @Override
      public Map<String, Tensor> step(Map<String, Tensor> inputs, Set<String> returned) {
        check(inputs);
        return run.step(inputs, returned);
      }

      @Override
      public Map<String, Tensor> carried() {
        return run.carried();
      }

      @Override
      public void close() {
        run.close();
      }
    };
  }

  @Override
  public long sizeBytes() {
    return session.sizeBytes();
  }

  @Override
  public void close() {
    session.close();
  }

  private void check(Map<String, Tensor> inputs) {
    for (NativeHazards.Guard g : guards) {
      Tensor divisor = inputs.get(g.input());
      if (divisor == null) {
        continue;
      }
      if (g.kind() == NativeHazards.Kind.BOUNDED) {
        if (outside(divisor, NativeHazards.MAX_TRILU_K)) {
          throw ServingException.invalid("input '" + g.input() + "' of " + g.op() + " node '" + g.node()
              + "' is outside [-" + NativeHazards.MAX_TRILU_K + ", " + NativeHazards.MAX_TRILU_K + "]");
        }
        continue;
      }
      if (contains(divisor, 0)) {
        throw ServingException.invalid("input '" + g.input() + "' holds 0, and it is the divisor of integer " + g.op()
            + " node '" + g.node() + "': division by zero is refused");
      }
      Tensor dividend = g.dividend() == null ? null : inputs.get(g.dividend());
      if (g.signed() && contains(divisor, -1) && (dividend == null || contains(dividend, minimum(divisor.type())))) {
        throw ServingException.invalid("input '" + g.input() + "' holds -1 as the divisor of integer " + g.op()
            + " node '" + g.node() + "' while the dividend may hold the type's minimum: the overflow is refused");
      }
    }
  }

  private static long minimum(DataType t) {
    return switch (t) {
      case INT8 -> Byte.MIN_VALUE;
      case INT16 -> Short.MIN_VALUE;
      case INT32 -> Integer.MIN_VALUE;
      default -> Long.MIN_VALUE;
    };
  }

  /** Whether an integer tensor holds a value beyond ±{@code bound}. */
  private static boolean outside(Tensor t, long bound) {
    ByteBuffer b = t.dataView();
    int width = t.type().byteSize();
    for (int i = b.position(); i + width <= b.limit(); i += width) {
      long v = width == 8 ? b.getLong(i) : width == 4 ? b.getInt(i) : 0;
      if (v > bound || v < -bound) {
        return true;
      }
    }
    return false;
  }

  /** Whether an integer tensor holds {@code value} (little-endian data). */
  private static boolean contains(Tensor t, long value) {
    ByteBuffer b = t.dataView();
    int width = t.type().byteSize();
    boolean unsigned = t.type() == DataType.UINT8 || t.type() == DataType.UINT16 || t.type() == DataType.UINT32
        || t.type() == DataType.UINT64;
    for (int i = b.position(); i + width <= b.limit(); i += width) {
      long v = switch (width) {
        case 1 -> unsigned ? b.get(i) & 0xff : b.get(i);
        case 2 -> unsigned ? b.getShort(i) & 0xffff : b.getShort(i);
        case 4 -> unsigned ? b.getInt(i) & 0xffffffffL : b.getInt(i);
        default -> b.getLong(i);
      };
      if (v == value) {
        return true;
      }
    }
    return false;
  }
}
