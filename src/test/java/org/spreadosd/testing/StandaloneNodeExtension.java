package org.spreadosd.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One standalone node shared by the tests of a class, in a directory of its own, stopped and removed
 * after them: {@code @RegisterExtension static final StandaloneNodeExtension node = new StandaloneNodeExtension();}
 */
public final class StandaloneNodeExtension implements BeforeAllCallback, AfterAllCallback {
    private final Map<String, Object> settings;
    private Path dir;
    private TestNode node;

    public StandaloneNodeExtension() {
        this(Map.of());
    }

    /** @param settings {@code spreadosd.*} settings on top of the test defaults */
    public StandaloneNodeExtension(Map<String, Object> settings) {
        this.settings = settings;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        dir = Files.createTempDirectory("spread-node");
        node = TestNode.standalone(dir.resolve("store"), settings);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        node.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public TestNode node() {
        return node;
    }

    /** The node's store directory. */
    public Path store() {
        return dir.resolve("store");
    }
}
