package io.freshet.producer;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A run as its write committed it, carried by the change record so that a feed can serve it
 * without reading a replica that has not applied it yet: each column a feed serves, by its wire
 * name (trigger.dev's {@code TaskRun} names: {@code status}, {@code metadata}, {@code updatedAt},
 * ...), in PostgreSQL's text form ({@code null} for SQL NULL).
 *
 * <p>A node serves the image only when it names every column its feeds serve; a record with a
 * partial image, or none, is read through the gate as before.
 */
public record RowImage(Map<String, String> columns) {

  public RowImage {
    columns = Collections.unmodifiableMap(new LinkedHashMap<>(columns));
  }

  /** About how many bytes it adds to a record on the wire. */
  public int sizeBytes() {
    int size = 4;
    for (Map.Entry<String, String> e : columns.entrySet()) {
      size += 9 + e.getKey().length() + (e.getValue() == null ? 0 : e.getValue().length());
    }
    return size;
  }
}
