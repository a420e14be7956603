package dev.pruneserve.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Token files: parsed, re-read when replaced, kept when unreadable, and closed when empty. */
class TokenSetTest {
  @TempDir Path dir;

  @Test
  void rotatesWhenTheFileChangesAndKeepsTheLastTokensWhenItIsGone() throws Exception {
    Path file = dir.resolve("tokens");
    Files.writeString(file, "# rotated weekly\nold-token\n\n  spaced  \n");
    TokenSet set = new TokenSet("t", List.of("inline"), Optional.of(file));
    assertEquals(List.of("inline", "old-token", "spaced"), strings(set));

    Files.writeString(file, "old-token\nnew-token\n"); // overlap window of a rotation
    Files.setLastModifiedTime(file, FileTime.fromMillis(Files.getLastModifiedTime(file).toMillis() + 10_000));
    assertEquals(List.of("inline", "old-token", "new-token"), strings(set));

    Path next = dir.resolve("tokens.next"); // replaced by rename, as a Secret volume update does
    Files.writeString(next, "new-token\n");
    Files.move(next, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    assertEquals(List.of("inline", "new-token"), strings(set));

    Files.delete(file);
    assertEquals(List.of("inline", "new-token"), strings(set), "an unreadable file keeps the tokens read before");
  }

  @Test
  void aConfiguredFileKeepsTheCheckOnWhileEmpty() throws Exception {
    Path file = dir.resolve("empty");
    Files.writeString(file, "\n# none yet\n");
    TokenSet set = new TokenSet("t", List.of(), Optional.of(file));
    assertTrue(set.enabled());
    assertTrue(set.tokens().isEmpty());
    assertFalse(new TokenSet("t", List.of(" "), Optional.empty()).enabled(), "blank tokens only: open");
  }

  @Test
  void aMissingFileFailsTheStart() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> new TokenSet("pruneserve.security.management-tokens", List.of(), Optional.of(dir.resolve("nope"))));
    assertTrue(e.getMessage().startsWith("pruneserve.security.management-tokens-file"), e.getMessage());
  }

  private static List<String> strings(TokenSet set) {
    return set.tokens().stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
  }
}
