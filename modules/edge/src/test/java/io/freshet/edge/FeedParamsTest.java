package io.freshet.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.freshet.core.FreshetException;
import io.freshet.core.feed.FeedFilter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The tag feed's additive filters, as the edge reads them from the query string. */
class FeedRequestsTest {

  @Test
  void apiStatusesBecomeTheRawStatusesRowsHoldSortedSoThatEqualFiltersShareALog() {
    assertThat(FeedParams.statuses(List.of("EXECUTING,QUEUED"))).containsExactly("EXECUTING", "PENDING", "RETRYING_AFTER_FAILURE");
    assertThat(FeedParams.statuses(List.of("queued", "executing"))).isEqualTo(FeedParams.statuses(List.of("EXECUTING,QUEUED")));
    assertThat(FeedParams.statuses(List.of("COMPLETED_SUCCESSFULLY"))).containsExactly("COMPLETED_SUCCESSFULLY");
    assertThat(FeedParams.statuses(List.of())).isEmpty();
  }

  @Test
  void anUnknownStatusOrTooManyNamesIsA400() {
    assertThatThrownBy(() -> FeedParams.statuses(List.of("EXECUTING,RUNNINGISH")))
        .isInstanceOf(FreshetException.class).hasMessageContaining("RUNNINGISH").hasMessageContaining("allowed: DELAYED, PENDING_VERSION, QUEUED, WAITING, DEQUEUED, EXECUTING, CANCELED, COMPLETED, FAILED");
    assertThatThrownBy(() -> FeedParams.statuses(List.of(String.join(",", java.util.Collections.nCopies(33, "QUEUED")))))
        .isInstanceOf(FreshetException.class).hasMessageContaining("at most");
  }

  @Test
  void aTagFeedWithoutStatusesFollowsEveryStatusAsBefore() {
    FeedFilter.Tags tags = (FeedFilter.Tags) FeedParams.tagFilter(List.of("a"), List.of(), "1h", 7 * 86_400_000L, 10_000_000_000L);
    assertThat(tags.statuses()).isEmpty();
    FeedFilter.Tags filtered = (FeedFilter.Tags) FeedParams.tagFilter(List.of("a"), List.of("FAILED"), "1h", 7 * 86_400_000L, 10_000_000_000L);
    assertThat(filtered.statuses()).containsExactly("COMPLETED_WITH_ERRORS", "INTERRUPTED");
    assertThat(filtered.sameFeedAs(tags)).isFalse();
  }
}
