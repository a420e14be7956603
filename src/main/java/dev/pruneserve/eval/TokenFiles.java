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
    List<Integer> out = new ArrayList<>();
    for (JsonNode story : new ObjectMapper().readTree(file.toFile()).get("stories")) {
      story.forEach(id -> out.add(id.asInt()));
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
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
