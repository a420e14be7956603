package dev.pruneserve.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The token-id files of shared/data/stories15m: {@code eval_ids.json} / {@code calib_ids.json}
 * ({@code stories}: id lists, each starting with BOS) and {@code sotu_ids.json} ({@code ids}).
 */
public final class TokenFiles {
  private TokenFiles() {}

  /** All stories concatenated in file order (each keeps its own BOS), as one stream. */
  public static int[] storiesStream(Path file) throws IOException {
    return stories(file).stream().flatMapToInt(java.util.Arrays::stream).toArray();
  }

  /** The stories of a file with a {@code stories} field, one id array each. */
  public static List<int[]> stories(Path file) throws IOException {
    List<int[]> out = new ArrayList<>();
    for (JsonNode story : new ObjectMapper().readTree(file.toFile()).get("stories")) {
      int[] ids = new int[story.size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = story.get(i).asInt();
      }
      out.add(ids);
    }
    return out;
  }

  /** The single id list of a file with an {@code ids} field. */
  public static int[] ids(Path file) throws IOException {
    JsonNode ids = new ObjectMapper().readTree(file.toFile()).get("ids");
    int[] out = new int[ids.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ids.get(i).asInt();
    }
    return out;
  }
}
