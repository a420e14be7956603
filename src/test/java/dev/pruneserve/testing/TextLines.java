package dev.pruneserve.testing;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.SplittableRandom;

/**
 * Text-line images for OCR models, rendered with Java2D (headless, the system's fonts): random
 * words in dark ink on a light page at a random size and offset, half of them rotated by 180°
 * (label 1; upright 0, PaddleOCR's direction-classifier classes "0" and "180"). Pixels NCHW RGB,
 * normalised as PaddleOCR does ((x / 255 − 0.5) / 0.5). Seeded.
 */
public record TextLines(float[] pixels, int[] labels) {
  private static final String[] WORDS = {"invoice", "total", "amount", "date", "street", "order", "number", "the",
      "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "payment", "due", "2026", "12", "copy", "page",
      "customer", "account", "balance", "shipping", "address", "phone", "email", "receipt", "item", "price"};

  public static TextLines render(int n, int height, int width, long seed) {
    System.setProperty("java.awt.headless", "true");
    SplittableRandom r = new SplittableRandom(seed);
    String[] fonts = {Font.SANS_SERIF, Font.SERIF, Font.MONOSPACED};
    float[] px = new float[n * 3 * height * width];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = img.createGraphics();
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      int paper = 215 + r.nextInt(40);
      g.setColor(new Color(paper, paper, paper - r.nextInt(15)));
      g.fillRect(0, 0, width, height);
      int ink = r.nextInt(70);
      g.setColor(new Color(ink, ink, ink + r.nextInt(30)));
      g.setFont(new Font(fonts[r.nextInt(fonts.length)], r.nextBoolean() ? Font.PLAIN : Font.BOLD, 18 + r.nextInt(
          14)));
      StringBuilder text = new StringBuilder();
      while (text.length() < 10 + r.nextInt(12)) {
        text.append(WORDS[r.nextInt(WORDS.length)]).append(' ');
      }
      labels[i] = i % 2;
      if (labels[i] == 1) {
        g.rotate(Math.PI, width / 2.0, height / 2.0);
      }
      g.drawString(text.toString().trim(), 2 + r.nextInt(12), height / 2 + 6 + r.nextInt(8));
      g.dispose();
      for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
          int rgb = img.getRGB(x, y);
          for (int c = 0; c < 3; c++) {
            int v = (rgb >> (16 - 8 * c)) & 0xff;
            px[((i * 3 + c) * height + y) * width + x] = (v / 255f - 0.5f) / 0.5f;
          }
        }
      }
    }
    return new TextLines(px, labels);
  }

  /** {@code m} with its first input's shape fixed to [1, 3, height, width] (for MAC counts). */
  public static ModelProto fixedInput(ModelProto m, int height, int width) {
    var g = m.getGraph().toBuilder();
    var shape = g.getInputBuilder(0).getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
    long[] dims = {1, 3, height, width};
    for (int d = 0; d < 4; d++) {
      shape.getDimBuilder(d).clearDimParam().setDimValue(dims[d]);
    }
    return m.toBuilder().setGraph(g).build();
  }
}
