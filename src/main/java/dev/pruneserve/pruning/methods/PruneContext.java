package dev.pruneserve.pruning.methods;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.train.ImageSet;
import java.nio.file.Path;
import java.util.List;

/**
 * One method run: the dense model (not changed), the recipe, token calibration sequences (null when
 * the method needs none), training images (null when none), the loader for temporary models, a
 * private work folder removed by the caller, and the progress sink. Single-threaded.
 */
public record PruneContext(ModelProto dense, PruneRecipe recipe, List<int[]> tokens, ImageSet images,
    SessionLoader loader, Path work, Progress progress) {}
