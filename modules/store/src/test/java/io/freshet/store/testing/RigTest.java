package io.freshet.store.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Marks a test class that needs the real primary and lagging standby ({@link PgRig}). The test
 * command runs everything else first, as the fast tier ({@code -DexcludedGroups=rig}), then these
 * ({@code -Dgroups=rig}) once the rig is up.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@Tag("rig")
public @interface RigTest {}
