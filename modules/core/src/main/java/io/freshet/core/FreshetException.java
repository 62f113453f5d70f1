package io.freshet.core;

/**
 * A failure a client can act on: it carries the HTTP status and a message. The HTTP edge turns it
 * into {@code {"error": message}} with that status; anything else is logged once and answered 500.
 */
public class FreshetException extends RuntimeException {

  private final int status;

  public FreshetException(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  public int status() {
    return status;
  }

  public static FreshetException badRequest(String message) {
    return new FreshetException(400, message);
  }

  public static FreshetException unauthorized(String message) {
    return new FreshetException(401, message);
  }

  public static FreshetException forbidden(String message) {
    return new FreshetException(403, message);
  }

  public static FreshetException notFound(String message) {
    return new FreshetException(404, message);
  }

  public static FreshetException unprocessable(String message) {
    return new FreshetException(422, message);
  }

  public static FreshetException tooLarge(String message) {
    return new FreshetException(413, message);
  }
}
