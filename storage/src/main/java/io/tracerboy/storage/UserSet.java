package io.tracerboy.storage;

import java.util.Arrays;

/**
 * An exact set of user ids kept in two primitive arrays: an open-addressing table of slots, each the id's hash and
 * where its characters start, and one array holding every id's characters, its length first. A lookup reads a slot
 * and, only when the hash matches, compares the characters, all of them: two memory reads where a {@link
 * java.util.HashSet} of strings needs four (table, node, string, its bytes), no object per entry for the collector to
 * trace, and about half the memory. {@link CommittedUsers} asks it once per event on the writer thread (measured: a
 * {@code HashSet} there was most of the writer's own time under batch ingest). Not thread-safe.
 */
final class UserSet {
    /** The most characters one set holds (ids and their lengths); {@link #hasRoomFor} says when it is reached. */
    static final int MAX_CHARS = Integer.MAX_VALUE - 16;
    private static final int INITIAL_SLOTS = 1 << 8;

    /** 0: empty; else the spread hash in the high 32 bits and the id's offset in {@link #chars} plus one below. */
    private long[] slots = new long[INITIAL_SLOTS];
    private char[] chars = new char[INITIAL_SLOTS * 8];
    private int charsUsed;
    private int size;

    int size() {
        return size;
    }

    boolean contains(String user) {
        return slotOf(user, spread(user.hashCode())) >= 0;
    }

    /** Whether {@code user} can still be added without passing {@link #MAX_CHARS}. */
    boolean hasRoomFor(String user) {
        return (long) charsUsed + user.length() + 1 <= MAX_CHARS;
    }

    /**
     * Adds {@code user}; false when it was there already. The caller checks {@link #hasRoomFor} first; ids are at most
     * {@value Character#MAX_VALUE} characters long (the edge refuses any over 256 bytes).
     */
    boolean add(String user) {
        if (user.length() > Character.MAX_VALUE || !hasRoomFor(user)) {
            throw new IllegalArgumentException("no room for a user id of " + user.length() + " characters");
        }
        int hash = spread(user.hashCode());
        int slot = slotOf(user, hash);
        if (slot >= 0) {
            return false;
        }
        int needed = user.length() + 1;
        if (charsUsed + needed > chars.length) {
            chars = Arrays.copyOf(chars, (int) Math.min(MAX_CHARS, Math.max(2L * chars.length, charsUsed + needed)));
        }
        chars[charsUsed] = (char) user.length();
        user.getChars(0, user.length(), chars, charsUsed + 1);
        slots[-1 - slot] = ((long) hash << 32) | (charsUsed + 1L);
        charsUsed += needed;
        if (++size * 2 > slots.length) {
            grow();
        }
        return true;
    }

    /** The slot holding {@code user}, or {@code -1 - s} where s is the empty slot it would take. */
    private int slotOf(String user, int hash) {
        int mask = slots.length - 1;
        for (int i = hash & mask; ; i = (i + 1) & mask) {
            long slot = slots[i];
            if (slot == 0) {
                return -1 - i;
            }
            if ((int) (slot >>> 32) == hash && sameChars((int) slot - 1, user)) {
                return i;
            }
        }
    }

    private boolean sameChars(int offset, String user) {
        int length = chars[offset];
        if (length != user.length()) {
            return false;
        }
        for (int k = 0; k < length; k++) {
            if (chars[offset + 1 + k] != user.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** Doubles the table, placing each slot again by its stored hash: the characters are not read. */
    private void grow() {
        long[] old = slots;
        slots = new long[old.length * 2];
        int mask = slots.length - 1;
        for (long slot : old) {
            if (slot != 0) {
                int i = (int) (slot >>> 32) & mask;
                while (slots[i] != 0) {
                    i = (i + 1) & mask;
                }
                slots[i] = slot;
            }
        }
    }

    /** String hashes of similar ids differ in their low bits only a little; mix them over all 32 (Murmur3's fmix32). */
    private static int spread(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        return h ^ (h >>> 16);
    }
}
