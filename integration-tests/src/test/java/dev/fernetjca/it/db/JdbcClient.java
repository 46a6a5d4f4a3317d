package dev.fernetjca.it.db;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A JDBC client, as an application would be: it knows a URL and nothing of fernet-jca, whose socket factory the URL
 * names and whose keys come from this JVM's configuration ({@code -Dfernet.keyFile}).
 *
 * <p>{@code JdbcClient URL ledger ROWS}: creates the table {@code fernet_ledger}, inserts {@code ROWS} rows in batches,
 * and prints {@code rows=N ids=SUM amounts=SUM label=LABEL_OF_ROW_42} and the server's {@code version()}.
 * {@code JdbcClient URL ping [URL...]}: prints {@code ping=1} for each URL, in order, in this one JVM. Exits 0 on
 * success; on failure prints the exception chain on stderr, one {@code failure: CLASS: MESSAGE} line per cause, and
 * exits 1.
 */
public final class JdbcClient {
    /** Rows go in batches of this many, each batch one round trip with pgjdbc's batched inserts. */
    private static final int BATCH_ROWS = 500;

    private JdbcClient() {}

    public static void main(String[] args) {
        try {
            if (args[1].equals("ledger")) {
                try (Connection connection = DriverManager.getConnection(args[0], "postgres", "")) {
                    ledger(connection, Integer.parseInt(args[2]));
                }
            } else {
                ping(args[0]);
                for (int i = 2; i < args.length; i++) {
                    ping(args[i]);
                }
            }
            System.out.flush();
        } catch (SQLException | RuntimeException e) {
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                System.err.println("failure: " + cause.getClass().getName() + ": " + cause.getMessage());
            }
            System.exit(1);
        }
        System.exit(0);
    }

    private static void ping(String url) throws SQLException {
        try (Connection connection = DriverManager.getConnection(url, "postgres", "");
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SELECT 1")) {
            result.next();
            System.out.println("ping=" + result.getInt(1));
            System.out.flush();
        }
    }

    /** Row {@code i} (from 1) has label {@code ledger-entry-0000i} and amount {@code i * 37 % 1000}. */
    private static void ledger(Connection connection, int rows) throws SQLException {
        connection.setAutoCommit(false);
        try (Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE fernet_ledger (id integer PRIMARY KEY, label text NOT NULL,"
                    + " amount bigint NOT NULL)");
        }
        try (PreparedStatement insert =
                connection.prepareStatement("INSERT INTO fernet_ledger (id, label, amount) VALUES (?, ?, ?)")) {
            for (int i = 1; i <= rows; i++) {
                insert.setInt(1, i);
                insert.setString(2, String.format("ledger-entry-%05d", i));
                insert.setLong(3, i * 37L % 1000);
                insert.addBatch();
                if (i % BATCH_ROWS == 0 || i == rows) {
                    insert.executeBatch();
                }
            }
        }
        connection.commit();
        try (Statement statement = connection.createStatement();
                ResultSet totals = statement.executeQuery("SELECT count(*), sum(id), sum(amount) FROM fernet_ledger");
                PreparedStatement label = connection.prepareStatement("SELECT label FROM fernet_ledger WHERE id = ?")) {
            totals.next();
            label.setInt(1, 42);
            try (ResultSet row = label.executeQuery()) {
                row.next();
                System.out.println("rows=" + totals.getLong(1) + " ids=" + totals.getLong(2) + " amounts="
                        + totals.getLong(3) + " label=" + row.getString(1));
            }
        }
        try (Statement statement = connection.createStatement();
                ResultSet version = statement.executeQuery("SELECT version()")) {
            version.next();
            System.out.println("version=" + version.getString(1));
        }
        connection.commit();
    }
}
