package io.freshet.router.feeds;

import io.freshet.core.feed.LogSlice;

/** Where a request's answer goes: the event-bus message in production, a recorder in tests. */
public interface PollReply {

  void answer(String handle, LogSlice slice);

  void fail(int status, String message);
}
