package io.freshet.lag;

/** A lag source was asked to sample a database it cannot measure (e.g. Aurora's function on plain PostgreSQL). */
public final class UnsupportedLagSourceException extends RuntimeException {

  public UnsupportedLagSourceException(String message) {
    super(message, null, false, false);
  }
}
