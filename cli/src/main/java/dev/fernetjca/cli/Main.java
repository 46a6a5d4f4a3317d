package dev.fernetjca.cli;

/** Placeholder entry point; the CLI issue replaces it. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.err.println("fernet: not built yet");
        System.exit(2);
    }
}
