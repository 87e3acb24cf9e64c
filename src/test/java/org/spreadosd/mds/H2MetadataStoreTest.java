package org.spreadosd.mds;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class H2MetadataStoreTest extends MetadataStoreContract {
    @TempDir
    Path dir;

    @Override
    protected String jdbcUrl() {
        return MdsUri.embeddedH2(dir);
    }
}
