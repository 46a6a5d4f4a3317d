package dev.fernetjca.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The factory jar as a module path sees it: a stable JPMS name, dev.fernetjca.net, as the provider has its own. */
class FactoryJarIT {
    @Test
    void theFactoryJarIsTheModuleDevFernetjcaNet() {
        String property = System.getProperty("fernet.factory.jar");
        assertTrue(property != null, "the fernet.factory.jar system property is not set; run through Maven failsafe");
        Path jar = Paths.get(property);
        assertTrue(Files.isRegularFile(jar), jar + " does not exist; build the factory module first");
        Set<ModuleReference> modules = ModuleFinder.of(jar).findAll();
        assertEquals(1, modules.size());
        ModuleDescriptor descriptor = modules.iterator().next().descriptor();
        // without Automatic-Module-Name the name would be derived from the file name: fernet.jca.factory
        assertEquals("dev.fernetjca.net", descriptor.name());
        assertTrue(
                descriptor.packages().contains("dev.fernetjca.net"),
                descriptor.packages().toString());
    }
}
