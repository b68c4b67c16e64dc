package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * The size budget of {@code tracerboy.js} (issue 22: at most 2 KB gzipped, measured in the build and failing it when
 * exceeded), taken on the bytes {@link ScriptHandler} sends to a browser that accepts gzip.
 */
class TrackerScriptTest {
    private static final int MAX_GZIPPED_BYTES = 2_048;
    private static final Path SOURCE = Path.of("src/main/resources/web/tracerboy.js");

    @Test
    void theServedScriptIsAtMost2048BytesGzipped() throws Exception {
        ScriptHandler handler = new ScriptHandler();
        byte[] gzipped = handler.gzipped();
        System.out.printf("tracerboy.js: %d bytes as written, %d bytes gzipped as served (limit %d)%n",
                handler.script().length, gzipped.length, MAX_GZIPPED_BYTES);
        assertThat(gzipped.length).isLessThanOrEqualTo(MAX_GZIPPED_BYTES);
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzipped))) {
            assertThat(in.readAllBytes()).isEqualTo(handler.script());
        }
    }

    @Test
    void theServedScriptIsTheRepositoryFileByteForByte() throws Exception {
        // No build step between the source and the browser: what is reviewed and tested by node is what is served.
        assertThat(new ScriptHandler().script()).isEqualTo(Files.readAllBytes(SOURCE));
    }

    @Test
    void theVersionIsSixteenHexDigitsOfTheBytesAndChangesWithThem() {
        String version = new ScriptHandler().version();
        assertThat(version).matches("[0-9a-f]{16}");
        assertThat(new ScriptHandler("console.log(1)".getBytes(StandardCharsets.UTF_8)).version())
                .matches("[0-9a-f]{16}").isNotEqualTo(version);
        assertThat(new ScriptHandler().versionedPath()).isEqualTo("/tracerboy.js?v=" + version);
    }
}
