package org.spreadosd.util;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The durability rule for directories: every entry made in a directory is followed by a force of it. */
class DurableFilesTest {
    @TempDir
    Path root;

    @Test
    void replaceForcesTheDirectoryAfterTheRename() throws IOException {
        RecordingSync sync = new RecordingSync();
        Path file = root.resolve("position.json");
        Files.writeString(file, "old");
        List<String> seenAtForce = new ArrayList<>();
        sync.beforeDirectoryForce(dir -> {
            try {
                seenAtForce.add(
                        Files.readString(file) + (Files.exists(root.resolve("position.json.tmp")) ? "+tmp" : ""));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        sync.files().replace(file, "new".getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of(root.toAbsolutePath().normalize()), sync.forcedDirectories());
        assertEquals(List.of("new"), seenAtForce, "the directory is forced once the new file is renamed in");
        assertArrayEquals("new".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(file));
    }

    @Test
    void createDirectoriesForcesEveryLevelItCreatesAndItsParent() throws IOException {
        RecordingSync sync = new RecordingSync();
        Path deep = root.resolve("a").resolve("b").resolve("c");
        sync.files().createDirectories(deep);
        assertTrue(Files.isDirectory(deep));
        List<Path> forced = sync.forcedDirectories();
        for (Path created : List.of(root.resolve("a"), root.resolve("a/b"), deep)) {
            Path level = created.toAbsolutePath().normalize();
            assertTrue(forced.contains(level), "forced " + level + ": " + forced);
            assertTrue(forced.contains(level.getParent()), "forced the parent of " + level + ": " + forced);
        }
        assertFalse(
                forced.contains(root.getParent().toAbsolutePath().normalize()), "levels that existed are left alone");

        int before = sync.forcedDirectories().size();
        sync.files().createDirectories(deep);
        assertEquals(before, sync.forcedDirectories().size(), "an existing directory costs no force");
    }
}
