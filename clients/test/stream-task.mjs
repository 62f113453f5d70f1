// A simulated task process: what a trigger.dev worker sets up for a running task (the SDK's
// realtime streams manager on the API client), then `streams.pipe` from @trigger.dev/sdk 4.8.3,
// unmodified. Writes COUNT chunks {i, token} to stream KEY of run RUN_ID, one every INTERVAL_MS,
// and exits 0 once the SDK reports the stream complete (1 with the error otherwise). With
// HOLD_OPEN=1 the source never ends after its chunks, so the writer never closes the stream.
//
//   FRESHET_BASE_URL=... FRESHET_SECRET_KEY=... RUN_ID=run_... KEY=tokens COUNT=500 INTERVAL_MS=2 node stream-task.mjs
import { configure, streams } from "@trigger.dev/sdk";
import { apiClientManager, realtimeStreams } from "@trigger.dev/core/v3";
import { StandardRealtimeStreamsManager } from "@trigger.dev/core/v3/workers";

const base = process.env.FRESHET_BASE_URL;
const runId = process.env.RUN_ID;
const key = process.env.KEY ?? "tokens";
const count = Number(process.env.COUNT ?? 500);
const intervalMs = Number(process.env.INTERVAL_MS ?? 2);

configure({ baseURL: base, secretKey: process.env.FRESHET_SECRET_KEY });
// As the worker does (TRIGGER_STREAM_URL ?? TRIGGER_API_URL).
realtimeStreams.setGlobalManager(new StandardRealtimeStreamsManager(apiClientManager.clientOrThrow(), base));

async function* tokens() {
  for (let i = 0; i < count; i++) {
    yield { i, token: `t${i} ` };
    if (intervalMs > 0) {
      // Pacing, as a model produces tokens: the writer's rate, not a wait for the server.
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
  if (process.env.HOLD_OPEN === "1") {
    // A task still running when its run is ended from outside (completed by the engine, cancelled):
    // the pipe never ends its body.
    await new Promise(() => {});
  }
}

try {
  const { waitUntilComplete } = streams.pipe(key, tokens(), { target: runId });
  await waitUntilComplete();
  console.log(JSON.stringify({ done: true, count }));
  process.exit(0);
} catch (error) {
  console.error(`stream-task: ${error?.stack ?? error}`);
  process.exit(1);
}
