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
    assertThat(FeedRequests.statuses(List.of("EXECUTING,QUEUED"))).containsExactly("EXECUTING", "PENDING", "RETRYING_AFTER_FAILURE");
    assertThat(FeedRequests.statuses(List.of("queued", "executing"))).isEqualTo(FeedRequests.statuses(List.of("EXECUTING,QUEUED")));
    assertThat(FeedRequests.statuses(List.of("COMPLETED_SUCCESSFULLY"))).containsExactly("COMPLETED_SUCCESSFULLY");
    assertThat(FeedRequests.statuses(List.of())).isEmpty();
  }

  @Test
  void anUnknownStatusOrTooManyNamesIsA400() {
    assertThatThrownBy(() -> FeedRequests.statuses(List.of("EXECUTING,RUNNINGISH")))
        .isInstanceOf(FreshetException.class).hasMessageContaining("RUNNINGISH").hasMessageContaining("allowed: DELAYED, PENDING_VERSION, QUEUED, WAITING, DEQUEUED, EXECUTING, CANCELED, COMPLETED, FAILED");
    assertThatThrownBy(() -> FeedRequests.statuses(List.of(String.join(",", java.util.Collections.nCopies(33, "QUEUED")))))
        .isInstanceOf(FreshetException.class).hasMessageContaining("at most");
  }

  @Test
  void aTagFeedWithoutStatusesFollowsEveryStatusAsBefore() {
    FeedFilter.Tags tags = (FeedFilter.Tags) FeedRequests.tagFilter(List.of("a"), List.of(), "1h", 7 * 86_400_000L, 10_000_000_000L);
    assertThat(tags.statuses()).isEmpty();
    FeedFilter.Tags filtered = (FeedFilter.Tags) FeedRequests.tagFilter(List.of("a"), List.of("FAILED"), "1h", 7 * 86_400_000L, 10_000_000_000L);
    assertThat(filtered.statuses()).containsExactly("COMPLETED_WITH_ERRORS", "INTERRUPTED");
    assertThat(filtered.sameFeedAs(tags)).isFalse();
  }
}
