package dev.pruneserve.variant;

import java.util.Map;

/**
 * What a variant is and how it was made, stored as {@code variant.json} beside its model folder.
 * Immutable once written.
 *
 * @param name {@code <parent>@<variantId>}, the model name it is served under
 * @param parentSha256 sha256 of the parent model file the variant was cut from
 * @param recipe the canonical recipe (method, ratio, options, calibration digest)
 * @param report parameters, per-layer widths, quality and timings
 * @param modelSha256 sha256 of the variant's model.onnx (checked at start; a mismatch quarantines it)
 */
public record VariantManifest(String name, String variantId, String parentModel, String parentVersion,
    String parentSha256, Map<String, Object> recipe, Map<String, Object> report, String modelSha256,
    long parametersBefore, long parametersAfter, long fileBytes, String createdAt) {
  public static final String FILE = "variant.json";
}
