package io.tracerboy.edge;

import io.tracerboy.ingest.InvalidRequestException;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/** Decompresses a gzipped batch body within its limit, on the worker thread that parses it. */
final class GzipBodies {
    private static final byte[] GZIP_MAGIC = {0x1f, (byte) 0x8b};

    private GzipBodies() {
    }

    /**
     * Decompresses at most {@code maxBodyBytes}; reading stops there, so a gzip bomb costs nothing more. Data that is
     * not gzip, or is cut short or corrupt, is an {@link InvalidRequestException} saying which.
     */
    static byte[] gunzip(byte[] raw, int maxBodyBytes) throws TooLarge {
        boolean startsAsGzip = raw.length == 0 || raw[0] == GZIP_MAGIC[0] && (raw.length == 1
                || raw[1] == GZIP_MAGIC[1]);
        if (!startsAsGzip) {
            throw new InvalidRequestException("request body: expected gzip data, found data that does not start as "
                    + "gzip does (1f 8b)");
        }
        byte[] out = new byte[Math.min(maxBodyBytes + 1, Math.max(8_192, raw.length * 4))];
        int n = 0;
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
            for (int read; (read = in.read(out, n, out.length - n)) > 0; ) {
                n += read;
                if (n > maxBodyBytes) {
                    throw new TooLarge();
                }
                if (n == out.length) {
                    out = Arrays.copyOf(out, Math.min(maxBodyBytes + 1, out.length * 2));
                }
            }
        } catch (EOFException cutShort) {
            throw new InvalidRequestException("request body: expected gzip data, found " + (raw.length == 0 ? "nothing"
                    : "a gzip stream cut short"));
        } catch (ZipException corrupt) {
            // zlib's own words describe the data ("invalid distance too far back", "Corrupt GZIP trailer").
            throw new InvalidRequestException("request body: expected gzip data, found corrupt gzip data"
                    + (corrupt.getMessage() == null ? "" : " (" + corrupt.getMessage() + ")"));
        } catch (IOException impossible) {
            throw new IllegalStateException(impossible); // reading from a byte array
        }
        return Arrays.copyOf(out, n);
    }

    /** The decompressed body passed {@code MAX_BATCH_BYTES}. */
    static final class TooLarge extends Exception {
        private static final long serialVersionUID = 1L;

        TooLarge() {
            super(null, null, false, false);
        }
    }
}
