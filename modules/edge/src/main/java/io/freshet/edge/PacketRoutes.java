package io.freshet.edge;

import io.freshet.core.FreshetConfig;
import io.freshet.core.FreshetException;
import io.freshet.core.time.Clock;
import io.freshet.core.write.WriteReply.RunRetrieved;
import io.freshet.store.Packets;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Packets: the payloads and outputs of 128 KiB and more that the SDK offloads instead of sending
 * inline, in trigger.dev's shape. The SDK asks for a presigned URL ({@code PUT /api/v2/packets/{path}},
 * secret key), uploads the bytes to it, and triggers with {@code payloadType: application/store}
 * and the storage path as the payload; readers get a presigned download URL for a run's payload or
 * output ({@code GET /api/v1/runs/{id}/packets/payload}, or {@code payloadPresignedUrl} in
 * {@code runs.retrieve}). The presigned URLs point at this cluster and the bytes live on the
 * primary, so any node serves any packet.
 */
final class PacketRoutes {

  private final Authenticator auth;
  private final RunAccess runAccess;
  private final Pool primary;
  private final int maxBytes;
  private final long urlTtlS;
  private final String publicBaseUrl;
  private final String packetBaseUrl;
  private final Clock clock;

  PacketRoutes(FreshetConfig config, Authenticator auth, RunAccess runAccess, Pool primary, Clock clock) {
    this.auth = auth;
    this.runAccess = runAccess;
    this.primary = primary;
    this.maxBytes = config.getInt(FreshetConfig.PACKETS_MAX_BYTES);
    this.urlTtlS = config.getInt(FreshetConfig.PACKETS_URL_TTL_SECONDS);
    this.publicBaseUrl = withoutTrailingSlash(config.get(FreshetConfig.HTTP_PUBLIC_BASE_URL));
    this.packetBaseUrl = withoutTrailingSlash(config.get(FreshetConfig.PACKETS_BASE_URL));
    this.clock = clock;
  }

  /** Mounted before the router's general body handler: uploads have their own size limit. */
  void mountUploads(Router router) {
    router.put(PacketUrls.PREFIX + "*").handler(BodyHandler.create(false).setBodyLimit(maxBytes));
    router.put(PacketUrls.PREFIX + "*").handler(ctx -> presignedRequest(ctx, "PUT"));
  }

  void mount(Router router) {
    router.put("/api/v2/packets/*").handler(ctx -> presign(ctx, "PUT", true));
    router.put("/api/v1/packets/*").handler(ctx -> presign(ctx, "PUT", false));
    router.get("/api/v1/packets/*").handler(ctx -> presign(ctx, "GET", false));
    router.get("/api/v1/runs/:runId/packets/:field").handler(this::runPacket);
    router.get(PacketUrls.PREFIX + "*").handler(ctx -> presignedRequest(ctx, "GET"));
  }

  /**
   * {@code {presignedUrl, storagePath}} for a packet path. Uploads take the secret key; a download
   * by path also takes a public token that may read every run (a path alone names no run to scope).
   */
  private void presign(RoutingContext ctx, String method, boolean withStoragePath) {
    auth.authenticate(ctx.request().getHeader("Authorization")).compose(principal -> {
      if (method.equals("PUT")) {
        principal.requireSecret();
      } else {
        principal.requireRead(List.of("runs:*"));
      }
      String path = PacketUrls.requireSafePath(decodedRest(ctx, ctx.request().path().indexOf("/packets/") + "/packets/".length()));
      return presignedUrl(ctx, principal.envId(), method, path).map(url -> {
        JsonObject body = new JsonObject().put("presignedUrl", url);
        return withStoragePath ? body.put("storagePath", path) : body;
      });
    }).onSuccess(ctx::json).onFailure(ctx::fail);
  }

  static final String RUN_PACKET = "SELECT payload, payload_type, output, output_type FROM task_runs WHERE env_id = $1 AND friendly_id = $2";

  /** {@code {presignedUrl}} for a run's offloaded payload or output; 404 when that field is not offloaded. */
  private void runPacket(RoutingContext ctx) {
    String field = ctx.pathParam("field");
    String runId = FeedParams.id(ctx.pathParam("runId"), "runId");
    if (!field.equals("payload") && !field.equals("output")) {
      ctx.fail(FreshetException.notFound("no packet field '" + field + "' (payload or output)"));
      return;
    }
    auth.authenticate(ctx.request().getHeader("Authorization"))
        .compose(principal -> runAccess.requireRead(principal, runId)
            .compose(v -> primary.preparedQuery(RUN_PACKET).execute(Tuple.of(principal.envId(), runId)))
            .compose(rows -> {
              String data = null;
              if (rows.size() > 0) {
                var row = rows.iterator().next();
                int at = field.equals("payload") ? 0 : 2;
                data = "application/store".equals(row.getString(at + 1)) ? row.getString(at) : null;
              }
              if (data == null || data.isEmpty()) {
                return Future.failedFuture(FreshetException.notFound("run " + runId + " has no offloaded " + field));
              }
              return presignedUrl(ctx, principal.envId(), "GET", data);
            }))
        .onSuccess(url -> ctx.json(new JsonObject().put("presignedUrl", url)))
        .onFailure(ctx::fail);
  }

  /**
   * A retrieved run with download URLs for its offloaded payload and output, after its other
   * fields ({@code payloadPresignedUrl}, then {@code outputPresignedUrl}), as {@code runs.retrieve}
   * expects them.
   */
  Future<JsonObject> presignStored(RoutingContext ctx, String envId, RunRetrieved retrieved) {
    JsonObject run = retrieved.run();
    Future<JsonObject> out = Future.succeededFuture(run);
    if (retrieved.payloadStorePath() != null) {
      out = out.compose(r -> presignedUrl(ctx, envId, "GET", retrieved.payloadStorePath()).map(url -> r.put("payloadPresignedUrl", url)));
    }
    if (retrieved.outputStorePath() != null) {
      out = out.compose(r -> presignedUrl(ctx, envId, "GET", retrieved.outputStorePath()).map(url -> r.put("outputPresignedUrl", url)));
    }
    return out;
  }

  /** The upload or download itself, authorized by the URL's signature alone. */
  private void presignedRequest(RoutingContext ctx, String method) {
    String rest = ctx.request().path().substring(PacketUrls.PREFIX.length());
    int slash = rest.indexOf('/');
    if (slash <= 0) {
      ctx.fail(FreshetException.notFound("no such packet"));
      return;
    }
    String envId;
    String path;
    try {
      envId = decode(rest.substring(0, slash));
      path = PacketUrls.requireSafePath(decode(rest.substring(slash + 1)));
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    // An environment that does not exist signs nothing: the same 403 as a wrong signature.
    auth.secretKeyOf(envId).recover(e -> Future.failedFuture(e instanceof FreshetException fe && fe.status() == 401
            ? FreshetException.forbidden("presigned URL signature does not match") : e))
        .compose(key -> {
          PacketUrls.verify(key, method, envId, path, ctx.request().getParam("expires"), ctx.request().getParam("signature"),
              clock.nowMs() / 1000);
          if (method.equals("PUT")) {
            String type = ctx.request().getHeader("content-type");
            return Packets.put(primary, envId, path, type == null || type.isBlank() ? "application/octet-stream" : type,
                ctx.body().buffer() == null ? io.vertx.core.buffer.Buffer.buffer() : ctx.body().buffer()).map(v -> (Packets.Packet) null);
          }
          return Packets.get(primary, envId, path)
              .map(found -> found.orElseThrow(() -> FreshetException.notFound("no such packet")));
        })
        .onSuccess(packet -> {
          var response = ctx.response().putHeader("cache-control", "no-store");
          if (packet == null) {
            response.setStatusCode(200).end();
          } else {
            // The exact type the upload named: the SDK parses by comparing it whole. Whatever that
            // type says (text/html included), the bytes are another tenant's: an attachment in a
            // sandbox, never a page that runs on this origin (nosniff is on every answer).
            SecurityHeaders.packet(response);
            response.putHeader("content-type", packet.contentType()).end(packet.bytes());
          }
        })
        .onFailure(ctx::fail);
  }

  private Future<String> presignedUrl(RoutingContext ctx, String envId, String method, String path) {
    long expires = clock.nowMs() / 1000 + urlTtlS;
    String base;
    try {
      base = baseUrl(packetBaseUrl, publicBaseUrl, ctx.request().scheme(), ctx.request().getHeader("host"));
    } catch (FreshetException e) {
      return Future.failedFuture(e);
    }
    return auth.secretKeyOf(envId).map(key -> PacketUrls.presigned(base, key, method, envId, path, expires));
  }

  /** A plain host, or host:port, or a bracketed IPv6 address with an optional port. */
  private static final java.util.regex.Pattern HOST = java.util.regex.Pattern.compile(
      "([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\\[[0-9A-Fa-f:.]{2,45}\\])(:[0-9]{1,5})?");

  /**
   * Where a presigned URL points: {@code packets.baseUrl} (a separate origin), else
   * {@code http.publicBaseUrl}, else the request's own scheme and {@code Host}. Never
   * {@code X-Forwarded-Host} or {@code -Proto}: any caller can send them, and a URL signed for
   * another host hands that host the signature and, on upload, the bytes. A Host that is not a
   * plain host[:port] is refused (400) rather than signed.
   */
  static String baseUrl(String packetBaseUrl, String publicBaseUrl, String scheme, String host) {
    if (!packetBaseUrl.isBlank()) {
      return packetBaseUrl;
    }
    if (!publicBaseUrl.isBlank()) {
      return publicBaseUrl;
    }
    if (host == null || !HOST.matcher(host).matches()) {
      throw FreshetException.badRequest("cannot presign a packet URL: the request's Host header is not a plain host[:port];"
          + " set http.publicBaseUrl");
    }
    return ("https".equals(scheme) ? "https" : "http") + "://" + host;
  }

  private static String withoutTrailingSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  /** The request path after {@code from}, percent-decoded ({@code %2F} included: the SDK encodes the whole path). */
  private static String decodedRest(RoutingContext ctx, int from) {
    return decode(ctx.request().path().substring(from));
  }

  private static String decode(String raw) {
    try {
      return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw FreshetException.badRequest("packet path is not valid percent-encoding");
    }
  }
}
