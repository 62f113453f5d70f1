package io.freshet.publisher;

import io.freshet.core.FreshetConfig;
import io.freshet.core.FreshetException;
import io.freshet.core.write.TriggerRequest;
import io.freshet.core.write.WriteCommand;
import io.freshet.core.write.WriteCommand.AddTags;
import io.freshet.core.write.WriteCommand.BatchItems;
import io.freshet.core.write.WriteCommand.BatchTrigger;
import io.freshet.core.write.WriteCommand.Cancel;
import io.freshet.core.write.WriteCommand.CreateBatch;
import io.freshet.core.write.WriteCommand.ProbeStream;
import io.freshet.core.write.WriteCommand.RegisterStream;
import io.freshet.core.write.WriteCommand.Retrieve;
import io.freshet.core.write.WriteCommand.Transition;
import io.freshet.core.write.WriteCommand.Trigger;
import io.freshet.core.write.WriteCommand.UpdateMetadata;
import io.freshet.core.write.WriteReply;
import io.freshet.core.write.WriteReply.BatchCreated;
import io.freshet.core.write.WriteReply.BatchItemsAdded;
import io.freshet.core.write.WriteReply.BatchTriggered;
import io.freshet.core.write.WriteReply.Cancelled;
import io.freshet.core.write.WriteReply.MetadataUpdated;
import io.freshet.core.write.WriteReply.RunRetrieved;
import io.freshet.core.write.WriteReply.StreamProbed;
import io.freshet.core.write.WriteReply.StreamRegistered;
import io.freshet.core.write.WriteReply.TagsAdded;
import io.freshet.core.write.WriteReply.Transitioned;
import io.freshet.core.write.WriteReply.Triggered;
import io.freshet.core.write.metadata.MetadataOperation;
import io.freshet.producer.ChangeRecord;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.function.Consumer;

/**
 * Hands each {@link WriteCommand} (parsed and validated at the edge) to the class that owns that
 * write. Every failure comes back as a failed future: a {@link FreshetException} for the client's
 * mistakes, anything else for ours.
 */
final class PublisherCommands implements WriteCommand.Handler {

  private final RunTriggers triggers;
  private final BatchWrites batches;
  private final MetadataUpdates metadata;
  private final MetadataFlusher flusher;
  private final TagWrites tags;
  private final StatusTransitions transitions;
  private final RunRetrieval retrieval;
  private final StreamWrites streams;

  PublisherCommands(Pool primary, Consumer<ChangeRecord> publish, StreamWrites streams, FreshetConfig config) {
    TriggerRequest.Limits limits = TriggerRequest.Limits.of(config);
    this.streams = streams;
    this.triggers = new RunTriggers(primary, publish);
    this.batches = new BatchWrites(primary, triggers);
    this.flusher = new MetadataFlusher(this::flushRun);
    this.metadata = new MetadataUpdates(primary, publish, flusher, limits.maxMetadataBytes(), io.freshet.core.time.Clock.SYSTEM);
    this.tags = new TagWrites(primary, publish, limits.maxTags());
    this.transitions = new StatusTransitions(primary, publish);
    this.retrieval = new RunRetrieval(primary);
  }

  /** The flusher's write: one optimistic update per run, which publishes when it changed the run. */
  private Future<Boolean> flushRun(String envId, String runId, List<MetadataOperation> ops) {
    return metadata.applyOperations(envId, runId, ops).map(outcome -> outcome.written() != null);
  }

  MetadataFlusher flusher() {
    return flusher;
  }

  /** Runs {@code command}; failures surface as failed futures, never as throws. */
  <R extends WriteReply> Future<R> handle(WriteCommand<R> command) {
    try {
      return command.handledBy(this);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public Future<Triggered> trigger(Trigger c) {
    return triggers.trigger(c.envId(), c.request(), c.requestKey(), null, null).map(t -> new Triggered(t.runId(), t.cached()));
  }

  @Override
  public Future<BatchCreated> createBatch(CreateBatch c) {
    return batches.create(c);
  }

  @Override
  public Future<BatchItemsAdded> batchItems(BatchItems c) {
    return batches.items(c);
  }

  @Override
  public Future<BatchTriggered> batchTrigger(BatchTrigger c) {
    return batches.trigger(c);
  }

  @Override
  public Future<MetadataUpdated> updateMetadata(UpdateMetadata c) {
    return metadata.update(c);
  }

  @Override
  public Future<TagsAdded> addTags(AddTags c) {
    return tags.add(c);
  }

  @Override
  public Future<Cancelled> cancel(Cancel c) {
    return ended(c.envId(), c.runId(), transitions.cancel(c.envId(), c.runId()));
  }

  @Override
  public Future<RunRetrieved> retrieve(Retrieve c) {
    return retrieval.retrieve(c.envId(), c.runId());
  }

  @Override
  public Future<Transitioned> transition(Transition c) {
    Future<Transitioned> moved = transitions.transition(c);
    return c.to().ends() ? ended(c.envId(), c.runId(), moved) : moved;
  }

  @Override
  public Future<StreamRegistered> registerStream(RegisterStream c) {
    return streams.register(c.stream().envId(), c.stream().runId(), c.stream().key(), c.clientId());
  }

  @Override
  public Future<StreamProbed> probeStream(ProbeStream c) {
    return streams.probe(c.stream().envId(), c.stream().runId(), c.stream().key(), c.clientId());
  }

  /** After a run reached a final status: its streams close, and their readers finish. */
  private <T> Future<T> ended(String envId, String runId, Future<T> transition) {
    return transition.compose(reply -> streams.closeRun(envId, runId).map(reply));
  }
}
