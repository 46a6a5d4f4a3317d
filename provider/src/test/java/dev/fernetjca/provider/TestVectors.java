package dev.fernetjca.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;

/** Loads the JSON vector files under {@code /vectors}; each vector is one case of a parameterized test. */
final class TestVectors {
    static final FernetProvider PROVIDER = new FernetProvider();

    private TestVectors() {}

    /** One vector: key, token, the time it is judged at, and either the plaintext or a rejection. */
    record Vector(
            String desc,
            String secret,
            String token,
            String now,
            Integer ttlSeconds,
            byte[] iv,
            String src,
            boolean valid) {
        SecretKey key() throws GeneralSecurityException {
            return SecretKeyFactory.getInstance("Fernet", PROVIDER).generateSecret(new FernetKeySpec(secret));
        }

        Clock clock() {
            return Clock.fixed(OffsetDateTime.parse(now).toInstant(), ZoneOffset.UTC);
        }

        FernetParameterSpec decryptParameters() {
            FernetParameterSpec spec = FernetParameterSpec.defaults().withClock(clock());
            return ttlSeconds == null ? spec : spec.withTtl(Duration.ofSeconds(ttlSeconds));
        }

        FernetParameterSpec encryptParameters() {
            return FernetParameterSpec.defaults().withClock(clock()).withIv(iv);
        }

        byte[] tokenBytes() {
            return token.getBytes(StandardCharsets.US_ASCII);
        }

        @Override
        public String toString() {
            return desc;
        }
    }

    static Stream<Vector> load(String resource) throws IOException {
        JsonNode root;
        try (InputStream in = TestVectors.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("missing test resource " + resource);
            }
            root = new ObjectMapper().readTree(in);
        }
        JsonNode array = root.isArray() ? root : root.get("vectors");
        List<Vector> vectors = new ArrayList<>();
        int index = 0;
        for (JsonNode node : array) {
            index++;
            byte[] iv = null;
            if (node.has("iv")) {
                iv = new byte[node.get("iv").size()];
                for (int i = 0; i < iv.length; i++) {
                    iv[i] = (byte) node.get("iv").get(i).asInt();
                }
            }
            String desc = node.has("desc") ? node.get("desc").asText() : resource + " #" + index;
            boolean valid = !node.has("valid") || node.get("valid").asBoolean();
            vectors.add(new Vector(
                    desc,
                    node.get("secret").asText(),
                    node.get("token").asText(),
                    node.get("now").asText(),
                    node.has("ttl_sec") ? node.get("ttl_sec").asInt() : null,
                    iv,
                    node.has("src") ? node.get("src").asText() : null,
                    valid));
        }
        if (vectors.isEmpty()) {
            throw new IOException("no vectors in " + resource);
        }
        return vectors.stream();
    }
}
