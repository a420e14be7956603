package dev.pruneserve.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads NumPy {@code .npy} files (format versions 1–3, C order) of the dtypes image datasets use:
 * {@code <f4}, {@code <f8}, {@code |u1}, {@code <i4}, {@code <i8} (also {@code |i1}). Values come
 * back as doubles with the array's shape; callers convert. Whole files are read into memory.
 */
public final class Npy {
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=])([fiu])(\\d)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  /** An array: its dtype without byte order ({@code f4}, {@code u1}, …), shape and values in C order. */
  public record Array(String dtype, long[] shape, double[] values) {}

  private Npy() {}

  public static Array read(Path file) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    byte[] magic = new byte[6];
    if (b.remaining() < 10) {
      throw new IOException(file + " is not a .npy file (too short)");
    }
    b.get(magic);
    if (magic[0] != (byte) 0x93 || !new String(magic, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
      throw new IOException(file + " is not a .npy file (no \\x93NUMPY magic)");
    }
    int major = b.get();
    b.get(); // minor
    long headerLen = major == 1 ? Short.toUnsignedInt(b.getShort()) : Integer.toUnsignedLong(b.getInt());
    if (headerLen > b.remaining()) {
      throw new IOException(file + ": truncated header");
    }
    byte[] h = new byte[(int) headerLen];
    b.get(h);
    String header = new String(h, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Matcher d = DESCR.matcher(header);
    Matcher f = FORTRAN.matcher(header);
    Matcher s = SHAPE.matcher(header);
    if (!d.find() || !f.find() || !s.find()) {
      throw new IOException(file + ": unreadable header " + header.trim());
    }
    if (f.group(1).equals("True")) {
      throw new IOException(file + ": Fortran order is not supported; save with np.ascontiguousarray");
    }
    if (d.group(1).equals(">")) {
      throw new IOException(file + ": big-endian data is not supported");
    }
    char kind = d.group(2).charAt(0);
    int width = Integer.parseInt(d.group(3));
    long[] shape = Arrays.stream(s.group(1).split(",")).map(String::trim).filter(x -> !x.isEmpty())
        .mapToLong(Long::parseLong).toArray();
    long n = Arrays.stream(shape).reduce(1, Math::multiplyExact);
    if (n > Integer.MAX_VALUE || n * width != b.remaining()) {
      throw new IOException(file + ": " + b.remaining() + " data bytes for shape " + Arrays.toString(shape)
          + " of " + width + "-byte values");
    }
    double[] v = new double[(int) n];
    for (int i = 0; i < v.length; i++) {
      v[i] = switch (kind + "" + width) {
        case "f4" -> b.getFloat();
        case "f8" -> b.getDouble();
        case "u1" -> Byte.toUnsignedInt(b.get());
        case "i1" -> b.get();
        case "i4" -> b.getInt();
        case "i8" -> b.getLong();
        default -> throw new IOException(file + ": dtype " + d.group(2) + d.group(3)
            + " is not supported (float32/64, uint8, int8/32/64)");
      };
    }
    return new Array(kind + "" + width, shape, v);
  }
}
