package io.freshet.store;

import java.security.SecureRandom;

/** Identifier formats clients expect (trigger.dev's), from a CSPRNG. */
public final class Ids {

  private static final SecureRandom RANDOM = new SecureRandom();
  /** trigger.dev's friendly-id alphabet: no 0 and no l, which read alike. */
  private static final String FRIENDLY = "123456789abcdefghijkmnopqrstuvwxyz";
  private static final String LOWER_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz";
  private static final String ALNUM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

  private Ids() {}

  public static String runFriendlyId() {
    return "run_" + random(FRIENDLY, 21);
  }

  public static String batchId() {
    return "batch_" + random(FRIENDLY, 21);
  }

  /** The internal run id (the Electric row key), cuid-like. */
  public static String internalId() {
    return "cm" + random(LOWER_ALNUM, 23);
  }

  public static String environmentId() {
    return "env_" + random(FRIENDLY, 21);
  }

  /** A secret API key: {@code tr_<env>_} and 24 alphanumerics, as the SDK expects. */
  public static String secretKey(String envType) {
    String prefix = switch (envType) {
      case "PRODUCTION" -> "prod";
      case "STAGING" -> "stg";
      case "PREVIEW" -> "preview";
      default -> "dev";
    };
    return "tr_" + prefix + "_" + random(ALNUM, 24);
  }

  public static String random(String alphabet, int length) {
    StringBuilder out = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      out.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
    }
    return out.toString();
  }
}
