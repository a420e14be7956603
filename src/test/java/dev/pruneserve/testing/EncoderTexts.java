package dev.pruneserve.testing;

import dev.pruneserve.assets.Stories15m;
import dev.pruneserve.eval.TokenFiles;
import dev.pruneserve.tokenizer.Llama2cTokenizer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * English sentences for encoder agreement checks: the shared, seeded evaluation stories
 * (eval_ids.json) decoded with the stories15M tokenizer and split at sentence ends, in file order,
 * so the texts are fixed and never chosen by the result.
 */
public final class EncoderTexts {
  private EncoderTexts() {}

  public static List<String> sentences(int n) throws IOException {
    return sentences("eval_ids.json", n);
  }

  /** The first {@code n} sentences of a stories file of {@code data/stories15m} (e.g. calib_ids.json). */
  public static List<String> sentences(String storiesFile, int n) throws IOException {
    Llama2cTokenizer tok = Llama2cTokenizer.read(Stories15m.tokenizerFile(Fixtures.stories15m()), 32_000);
    List<String> out = new ArrayList<>();
    for (int[] story : TokenFiles.stories(Fixtures.stories15mData(storiesFile))) {
      for (String s : tok.decode(story).split("(?<=[.!?])\\s+")) {
        if (s.strip().length() >= 20 && out.size() < n) {
          out.add(s.strip());
        }
      }
    }
    return out;
  }
}
