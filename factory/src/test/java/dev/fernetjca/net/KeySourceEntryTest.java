package dev.fernetjca.net;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fernetjca.provider.FernetKeyRing;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;

/**
 * What a keystore entry's key is turned into, and what is left of it: its encoding zeroed and the entry key destroyed,
 * whether it held 32 raw bytes or the 44-character key string. Also the once-per-JVM notice of readable key files.
 */
class KeySourceEntryTest {
    private static final Path STORE = Path.of("keys.p12");

    /** An entry key whose every {@code getEncoded} copy the test keeps, and which notes its destruction. */
    private static final class EntryKey implements SecretKey {
        private static final long serialVersionUID = 1L;
        private final byte[] encoded;
        private transient byte[] handedOut;
        private boolean destroyed;

        EntryKey(byte[] encoded) {
            this.encoded = encoded.clone();
        }

        @Override
        public String getAlgorithm() {
            return "HmacSHA256";
        }

        @Override
        public String getFormat() {
            return "RAW";
        }

        @Override
        public byte[] getEncoded() {
            handedOut = encoded.clone();
            return handedOut;
        }

        @Override
        public void destroy() {
            destroyed = true;
        }

        @Override
        public boolean isDestroyed() {
            return destroyed;
        }
    }

    private static byte[] rawKey() {
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        return raw;
    }

    private static void assertOneKey(byte[] raw, FernetKeyRing ring) {
        assertEquals(1, ring.size());
        assertArrayEquals(raw, ring.keys().get(0).getEncoded());
    }

    @Test
    void aRawEntryIsZeroedAndDestroyed() {
        byte[] raw = rawKey();
        EntryKey entry = new EntryKey(raw);
        assertOneKey(raw, KeySource.entryRing(entry, STORE, "fernet"));
        assertArrayEquals(new byte[32], entry.handedOut);
        assertTrue(entry.isDestroyed());
    }

    @Test
    void aKeyStringEntryIsZeroedAndDestroyed() {
        byte[] raw = rawKey();
        EntryKey entry = new EntryKey(Base64.getUrlEncoder().encode(raw));
        assertEquals(44, entry.encoded.length);
        assertOneKey(raw, KeySource.entryRing(entry, STORE, "fernet"));
        assertArrayEquals(new byte[44], entry.handedOut);
        assertTrue(entry.isDestroyed());
    }

    @Test
    void anEntryOfAnotherLengthIsRefusedAndStillZeroedAndDestroyed() {
        EntryKey entry = new EntryKey("sixteen bytes!!!".getBytes(US_ASCII));
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> KeySource.entryRing(entry, STORE, "fernet"));
        assertTrue(e.getMessage().contains("is 16 bytes"), e::getMessage);
        assertArrayEquals(new byte[16], entry.handedOut);
        assertTrue(entry.isDestroyed());
    }

    @Test
    void readableKeyFilesAreAnnouncedOncePerJvm() {
        Logger logger = Logger.getLogger(KeySource.class.getName());
        List<String> logged = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                logged.add(record.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        Level previous = logger.getLevel();
        logger.setLevel(Level.ALL);
        logger.addHandler(capture);
        Lookup readable = new Lookup(
                name -> null, name -> null, name -> name.equals("FERNET_KEY_FILE_PERMISSIONS") ? "readable" : null);
        try {
            KeySource.READABLE_ANNOUNCED.set(false);
            assertTrue(KeySource.readableByOthers(readable));
            assertEquals(1, logged.size(), logged::toString);
            assertTrue(logged.get(0).contains("=readable is in effect"), logged::toString);
            assertTrue(KeySource.readableByOthers(readable));
            assertEquals(1, logged.size(), "once: " + logged);
        } finally {
            logger.removeHandler(capture);
            logger.setLevel(previous);
        }
    }
}
