package dev.fernetjca.net;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;

/** Returns at most a few bytes per read, at random: the cheapest way to find framing bugs. Test code only. */
final class FragmentingInputStream extends FilterInputStream {
    private final Random random;
    private final int maxFragment;

    FragmentingInputStream(InputStream in, long seed, int maxFragment) {
        super(in);
        this.random = new Random(seed);
        this.maxFragment = maxFragment;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        return super.read(buffer, offset, Math.min(length, 1 + random.nextInt(maxFragment)));
    }
}
