package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedDataDirectoryTest {
    @TempDir
    Path temp;

    @Test
    void aFileIsRefusedWithTheReason() throws Exception {
        Path file = Files.writeString(temp.resolve("passwd"), "root:x:0:0");
        assertThatThrownBy(() -> EmbeddedDatabase.checkUsable(file))
                .hasMessage("EMBEDDED_DATA_DIR: expected an empty directory or a PostgreSQL data directory, found '"
                        + file + "', which is a file");
    }

    @Test
    void aDirectoryHoldingOtherFilesIsRefusedNamingThem() throws Exception {
        Path junk = Files.createDirectory(temp.resolve("junk"));
        Files.writeString(junk.resolve("notes.txt"), "x");
        Files.createDirectory(junk.resolve("photos"));
        assertThatThrownBy(() -> EmbeddedDatabase.checkUsable(junk))
                .hasMessage("EMBEDDED_DATA_DIR: expected an empty directory or a PostgreSQL data directory, found '"
                        + junk + "', which holds other files (notes.txt, photos) and no PG_VERSION");
    }

    @Test
    void aMissingDirectoryIsCreatedAndADataDirectoryAccepted() throws Exception {
        assertThatCode(() -> EmbeddedDatabase.checkUsable(temp.resolve("new/data"))).doesNotThrowAnyException();
        Path data = Files.createDirectory(temp.resolve("data"));
        Files.writeString(data.resolve("PG_VERSION"), "17\n");
        Files.createDirectory(data.resolve("base"));
        assertThatCode(() -> EmbeddedDatabase.checkUsable(data)).doesNotThrowAnyException();
    }

    @Test
    void aDirectoryUnderAFileCannotBeCreatedAndSaysWhy() throws Exception {
        Path file = Files.writeString(temp.resolve("plain"), "x");
        assertThatThrownBy(() -> EmbeddedDatabase.checkUsable(file.resolve("data")))
                .hasMessageStartingWith("EMBEDDED_DATA_DIR: expected an empty directory or a PostgreSQL data "
                        + "directory, found '" + file.resolve("data") + "', which cannot be created (");
    }
}
