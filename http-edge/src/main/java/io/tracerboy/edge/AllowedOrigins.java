package io.tracerboy.edge;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The origins whose pages may send events ({@code CORS_ALLOWED_ORIGINS}): any ({@code *}) or exact origins such as
 * {@code https://shop.example}, kept as browsers write them in {@code Origin} (lower case, no default port).
 */
public final class AllowedOrigins {
    /** The values accepted, in the words of the message that refuses others. */
    static final String ACCEPTED = "* or a comma-separated list of origins like https://shop.example "
            + "(scheme://host[:port], no path)";
    private static final AllowedOrigins ANY = new AllowedOrigins(Set.of());

    /** Normalized origins; empty means any. */
    private final Set<String> origins;

    private AllowedOrigins(Set<String> origins) {
        this.origins = origins;
    }

    /** Every origin: {@code *}. */
    public static AllowedOrigins any() {
        return ANY;
    }

    /**
     * Parses {@code *} or a comma-separated list of origins; a bad value is refused with a message naming {@code key}
     * and the entry: {@code KEY: expected …, found '…'}.
     */
    public static AllowedOrigins parse(String key, String value) {
        String expected = key + ": expected " + ACCEPTED + ", found ";
        if (value == null || value.isBlank()) {
            throw new ConfigException(expected + "nothing");
        }
        if (value.trim().equals("*")) {
            return ANY;
        }
        Set<String> origins = new LinkedHashSet<>();
        for (String entry : value.split(",", -1)) {
            String origin = normalize(entry.trim());
            if (origin == null) {
                throw new ConfigException(expected + "'" + entry.trim() + "'"
                        + (entry.isBlank() ? " (an empty entry) in '" + value + "'" : ""));
            }
            origins.add(origin);
        }
        return new AllowedOrigins(Set.copyOf(origins));
    }

    /** The origin as a browser sends it, or null if {@code origin} is not one. */
    private static String normalize(String origin) {
        URI uri;
        try {
            uri = new URI(origin);
        } catch (URISyntaxException e) {
            return null;
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        boolean plain = (scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null
                && uri.getRawUserInfo() == null && uri.getRawPath().isEmpty() && uri.getRawQuery() == null
                && uri.getRawFragment() == null;
        if (!plain) {
            return null;
        }
        int defaultPort = scheme.equals("https") ? 443 : 80;
        String port = uri.getPort() == -1 || uri.getPort() == defaultPort ? "" : ":" + uri.getPort();
        return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + port;
    }

    /** True for {@code *}. */
    public boolean isAny() {
        return origins.isEmpty();
    }

    /** Whether a page of this origin ({@code Origin} header value) may send events. */
    public boolean allows(String origin) {
        return isAny() || origins.contains(origin.toLowerCase(Locale.ROOT));
    }

    /** {@code *} or the origins, comma-separated, as for the startup log. */
    @Override
    public String toString() {
        return isAny() ? "*" : String.join(",", origins.stream().sorted().toList());
    }
}
