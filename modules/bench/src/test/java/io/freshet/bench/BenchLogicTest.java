package io.freshet.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.bench.FreshnessClassifier.Tally;
import io.freshet.bench.RunTrace.Delivery;
import io.freshet.bench.RunTrace.Write;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class BenchLogicTest {

  private static final long DELAY = 150;
  private final FreshnessClassifier classifier = new FreshnessClassifier(DELAY, 20, 1000);

  @Test
  void percentilesUseNearestRank() {
    LatencyRecorder r = new LatencyRecorder();
    for (int v = 100; v >= 1; v--) {
      r.record(v);
    }
    assertThat(r.percentile(50)).isEqualTo(50);
    assertThat(r.percentile(95)).isEqualTo(95);
    assertThat(r.percentile(99)).isEqualTo(99);
    assertThat(r.percentile(100)).isEqualTo(100);
    assertThat(r.percentile(0.1)).isEqualTo(1);
    assertThat(new LatencyRecorder().percentile(50)).isEqualTo(-1);
  }

  @Test
  void gatedStyleDeliveriesAreFreshAndTheirLatencyIsCommitToArrival() {
    // Writes every 1 s; each delivered 160 ms after its PUT returned (after the apply delay).
    List<Write> writes = List.of(new Write(1, 995, 1000), new Write(2, 1995, 2000), new Write(3, 2995, 3000));
    List<Delivery> got = List.of(new Delivery(1, 1160, 1000), new Delivery(2, 2160, 2000), new Delivery(3, 3160, 3000));

    Tally t = classifier.classify(writes, got, 0);

    assertThat(t.delivered).isEqualTo(3);
    assertThat(t.stale).isZero();
    assertThat(t.behind).isZero();
    assertThat(t.stranded).isZero();
    assertThat(t.missing).isZero();
    assertThat(t.latency.snapshot()).containsExactly(160, 160, 160);
  }

  @Test
  void oneBehindDeliveriesAreBehindAndTheLastChangeIsStranded() {
    // Ungated: change k+1 wakes a read that returns k; nothing wakes the feed after the last change.
    List<Write> writes = List.of(new Write(1, 995, 1000), new Write(2, 1995, 2000), new Write(3, 2995, 3000));
    List<Delivery> got = List.of(new Delivery(1, 2005, 1000), new Delivery(2, 3005, 2000));

    Tally t = classifier.classify(writes, got, 0);

    assertThat(t.behind).isEqualTo(2);
    assertThat(t.stale).as("the standby had nothing newer when these were read").isZero();
    assertThat(t.stranded).isEqualTo(1);
    assertThat(t.missing).isEqualTo(1);
    assertThat(t.latency.snapshot()).containsExactly(1005, 1005);
  }

  @Test
  void aRowOlderThanWhatTheStandbyHadAppliedIsStale() {
    List<Write> writes = List.of(new Write(1, 995, 1000), new Write(2, 1095, 1100));
    // Seq 1 arriving at 1400: write 2 returned 300 ms earlier, more than delay + tolerance.
    List<Delivery> got = List.of(new Delivery(1, 1400, 1000), new Delivery(2, 1450, 1100));

    Tally t = classifier.classify(writes, got, 0);

    assertThat(t.stale).isEqualTo(1);
    assertThat(t.stranded).isZero();
  }

  @Test
  void aFinalChangeArrivingAfterTheGraceIsStrandedButCounted() {
    List<Write> writes = List.of(new Write(1, 995, 1000));
    List<Delivery> got = List.of(new Delivery(1, 1000 + DELAY + 1001, 1000));

    Tally t = classifier.classify(writes, got, 0);

    assertThat(t.stranded).isEqualTo(1);
    assertThat(t.missing).isZero();
    assertThat(t.latency.percentile(50)).isEqualTo(DELAY + 1001);
  }

  @Test
  void snapshotRowsBeforeTheWritesAreIgnored() {
    List<Write> writes = List.of(new Write(1, 995, 1000));
    List<Delivery> got = List.of(new Delivery(0, 500, 400), new Delivery(1, 1160, 1000));

    assertThat(classifier.classify(writes, got, 900).delivered).isEqualTo(1);
  }

  @Test
  void svgHasOnePanelPerDelayAndOneSeriesPerModeWithFullNamesAndWritesThatNeverArrivedDrawn() throws Exception {
    List<SvgPlot.Series> series = new java.util.ArrayList<>();
    for (String mode : BenchSettings.MODES) {
      series.add(SvgPlot.Series.of(mode, new long[] {1, 20, 170, 1200}, mode.equals("ungated") ? 4 : 0));
    }
    String svg = SvgPlot.render("latency <&> test", List.of(new SvgPlot.Panel("sweep, apply delay 150 ms", 150, series),
        new SvgPlot.Panel("sweep, apply delay 0 ms", 0, series)));

    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    Document doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    assertThat(doc.getDocumentElement().getLocalName()).isEqualTo("svg");
    NodeList groups = doc.getElementsByTagName("g");
    assertThat(groups.getLength()).isEqualTo(2);
    for (int i = 0; i < groups.getLength(); i++) {
      Element group = (Element) groups.item(i);
      List<Element> curves = new java.util.ArrayList<>();
      List<Element> missing = new java.util.ArrayList<>();
      NodeList paths = group.getElementsByTagName("path");
      for (int j = 0; j < paths.getLength(); j++) {
        Element path = (Element) paths.item(j);
        (path.getAttribute("class").equals("missing") ? missing : curves).add(path);
        assertThat(path.getAttribute("d")).startsWith("M");
      }
      assertThat(curves).extracting(p -> p.getAttribute("data-mode")).containsExactlyElementsOf(BenchSettings.MODES);
      assertThat(missing).extracting(p -> p.getAttribute("data-mode")).containsExactly("ungated");
      List<String> legend = new java.util.ArrayList<>();
      NodeList texts = group.getElementsByTagName("text");
      for (int j = 0; j < texts.getLength(); j++) {
        if (((Element) texts.item(j)).getAttribute("class").equals("legend")) {
          legend.add(texts.item(j).getTextContent());
        }
      }
      assertThat(legend).as("every mode by its full name").hasSize(BenchSettings.MODES.size())
          .contains("ungated: 4 of 8 never arrived (50.0%)", "gated: all 4 arrived");
    }
  }

  @Test
  void aModeWithMissingWritesTopsOutBelowTheFullShare() {
    SvgPlot.Series half = SvgPlot.Series.of("ungated", new long[] {10, 20}, 2);
    String d = SvgPlot.cdfPath(half, 0, 0);
    // The plot is 200 px high: half of all writes arrived, so the curve ends at y = 100, not 0.
    assertThat(d).endsWith(" 100.0");
  }

  /** The half-open phase counts closes within the timeout and the node's header-timeout closes whatever their other labels. */
  @Test
  void closesAreCountedUpToABoundAndCountersSummedByOneLabel() {
    Histogram closes = new Histogram();
    for (long ms : new long[] {2001, 2040, 2249, 2250, 2251, 9000}) {
      closes.record(ms);
    }
    assertThat(closes.countAtMost(2250)).isEqualTo(4);
    assertThat(closes.countAtMost(0)).isZero();
    PromMetrics metrics = PromMetrics.parse("freshet_http_connections_closed_total{instance=\"web-0\",reason=\"request-header-timeout\"} 3.0\n"
        + "freshet_http_connections_closed_total{instance=\"web-1\",reason=\"request-header-timeout\"} 4.0\n"
        + "freshet_http_connections_closed_total{instance=\"web-1\",reason=\"idle-timeout\"} 9.0\n");
    assertThat(metrics.sum("freshet_http_connections_closed_total", "reason", "request-header-timeout")).isEqualTo(7.0);
  }
}
