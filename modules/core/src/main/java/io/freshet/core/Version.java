package io.freshet.core;

/** The version a node reports (/health, the dashboard): the jar's implementation version, or "dev" from the sources. */
public final class Version {

  public static final String VERSION = versionOf();

  private Version() {}

  private static String versionOf() {
    String v = Version.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
