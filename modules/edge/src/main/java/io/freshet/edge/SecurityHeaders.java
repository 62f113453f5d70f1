package io.freshet.edge;

import io.vertx.core.http.HttpServerResponse;

/**
 * The headers that keep this origin from running anyone's script. Every answer: no MIME sniffing,
 * no framing, no referrer, and a policy that loads nothing (the API serves JSON and event streams,
 * which a browser never renders). The dashboard's policy lets its own script, style and fetches
 * (same origin, nothing inline). A packet download is another tenant's bytes: an attachment, in a
 * sandbox, never a page of this origin.
 */
final class SecurityHeaders {

  static final String API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
  /**
   * What the dashboard's page needs and no more: dashboard.js and dashboard.css from this origin,
   * fetches to this origin (the stats and the feed); the chart is inline SVG (elements, not
   * style attributes) and the key form is handled by the script, never submitted.
   */
  static final String DASHBOARD_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:;"
      + " base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  /** A packet is never content of this origin, even if a browser opens its URL. */
  static final String PACKET_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'";

  private SecurityHeaders() {}

  /** On every response, before its route runs (a route may replace the policy). */
  static void apply(HttpServerResponse response) {
    response.putHeader("x-content-type-options", "nosniff")
        .putHeader("x-frame-options", "DENY")
        .putHeader("referrer-policy", "no-referrer")
        .putHeader("content-security-policy", API_POLICY);
  }

  static void dashboard(HttpServerResponse response) {
    response.putHeader("content-security-policy", DASHBOARD_POLICY);
  }

  /** A presigned download: saved, not rendered, and sandboxed if it is rendered anyway. */
  static void packet(HttpServerResponse response) {
    response.putHeader("content-security-policy", PACKET_POLICY)
        .putHeader("content-disposition", "attachment");
  }
}
