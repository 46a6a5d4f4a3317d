import java.nio.charset.StandardCharsets;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;

/** Run in a child JVM: finds Fernet with no provider named in code, and says where it came from. */
public class Probe {
    public static void main(String[] args) throws Exception {
        Cipher cipher = Cipher.getInstance("Fernet");
        SecretKey key = KeyGenerator.getInstance("Fernet").generateKey();
        cipher.init(Cipher.ENCRYPT_MODE, key);
        byte[] token = cipher.doFinal("registered".getBytes(StandardCharsets.UTF_8));
        cipher.init(Cipher.DECRYPT_MODE, key);
        String plaintext = new String(cipher.doFinal(token), StandardCharsets.UTF_8);
        Module module = cipher.getProvider().getClass().getModule();
        System.out.println("provider=" + cipher.getProvider().getName()
                + " module=" + (module.isNamed() ? module.getName() : "unnamed")
                + " roundtrip=" + plaintext);
    }
}
