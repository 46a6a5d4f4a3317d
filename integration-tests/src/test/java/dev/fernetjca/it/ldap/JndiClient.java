package dev.fernetjca.it.ldap;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Hashtable;
import java.util.List;
import javax.naming.Context;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attributes;
import javax.naming.directory.InitialDirContext;
import javax.naming.directory.SearchControls;
import javax.naming.directory.SearchResult;

/**
 * A JNDI LDAP client, as an application would be: its environment names the socket factory by class name, and the
 * factory's keys come from this JVM's configuration ({@code -Dfernet.keyFile}).
 *
 * <p>{@code JndiClient URL BIND_DN PASSWORD FILTER}: binds (simple), searches the subtree of the URL's base DN, and
 * prints one line per entry found, {@code DN | cn=CN | mail=MAIL}, sorted. Exits 0 on success; on failure prints the
 * exception chain on stderr, one {@code failure: CLASS: MESSAGE} line per cause, and exits 1.
 */
public final class JndiClient {
    private JndiClient() {}

    public static void main(String[] args) {
        Hashtable<String, Object> environment = new Hashtable<>();
        environment.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.ldap.LdapCtxFactory");
        environment.put(Context.PROVIDER_URL, args[0]);
        environment.put("java.naming.ldap.factory.socket", "dev.fernetjca.net.FernetSocketFactory");
        environment.put(Context.SECURITY_AUTHENTICATION, "simple");
        environment.put(Context.SECURITY_PRINCIPAL, args[1]);
        environment.put(Context.SECURITY_CREDENTIALS, args[2]);
        // bounded waits, so an unreachable or silent server fails the client instead of hanging it
        environment.put("com.sun.jndi.ldap.connect.timeout", "10000");
        environment.put("com.sun.jndi.ldap.read.timeout", "30000");
        try {
            InitialDirContext context = new InitialDirContext(environment);
            try {
                SearchControls controls = new SearchControls();
                controls.setSearchScope(SearchControls.SUBTREE_SCOPE);
                controls.setReturningAttributes(new String[] {"cn", "mail"});
                List<String> lines = new ArrayList<>();
                NamingEnumeration<SearchResult> results = context.search("", args[3], controls);
                while (results.hasMore()) {
                    SearchResult result = results.next();
                    Attributes attributes = result.getAttributes();
                    lines.add(result.getNameInNamespace() + " | cn="
                            + attributes.get("cn").get() + " | mail="
                            + attributes.get("mail").get());
                }
                Collections.sort(lines);
                lines.forEach(System.out::println);
                System.out.flush();
            } finally {
                context.close();
            }
        } catch (NamingException | RuntimeException e) {
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                System.err.println("failure: " + cause.getClass().getName() + ": " + cause.getMessage());
            }
            System.exit(1);
        }
        System.exit(0);
    }
}
