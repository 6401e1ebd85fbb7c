using Microsoft.Data.Analysis;
using PricingOptimizer.Analytics;
using PricingOptimizer.Statistics;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Tests.Analytics;

/// <summary>The notebook views: readable numbers, missing figures shown as missing, text escaped, long frames cut.</summary>
public sealed class NotebookHtmlTests
{
    [Fact]
    public void A_frame_shows_rounded_numbers_dashes_for_nulls_and_escapes_text()
    {
        var frame = new DataFrame(
            new StringDataFrameColumn("name", ["<script>alert(1)</script>", "b & c"]),
            new DoubleDataFrameColumn("rate", [0.123456789, null]),
            new DecimalDataFrameColumn("price", [9.9m, 12.5000m]),
            new BooleanDataFrameColumn("control", [true, false]),
            new DateTimeDataFrameColumn("date", [new DateTime(2026, 11, 2, 0, 0, 0, DateTimeKind.Utc), new DateTime(2026, 11, 2, 13, 5, 0, DateTimeKind.Utc)]));
        var html = NotebookHtml.Frame(frame, "caption <b>");

        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.Contains("<td>b &amp; c</td>", html, StringComparison.Ordinal);
        Assert.Contains("caption &lt;b&gt;", html, StringComparison.Ordinal);
        Assert.Contains("<td>0.1235</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>—</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>9.90</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>12.50</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>yes</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>2026-11-02</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>2026-11-02 13:05:00</td>", html, StringComparison.Ordinal);
        Assert.Contains("<th>rate</th>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_frame_shows_its_first_rows_and_says_how_many_there_are()
    {
        var frame = new DataFrame(new Int64DataFrameColumn("n", Enumerable.Range(0, 1234).Select(i => (long?)i)));
        var html = NotebookHtml.Frame(frame);
        Assert.Equal(NotebookHtml.MaxRows, html.Split("<tr>").Length - 2); // the header row, then the shown rows
        Assert.Contains("first 50 of 1,234 rows", html, StringComparison.Ordinal);
        Assert.Contains($"<td>{NotebookHtml.MaxRows - 1}</td>", html, StringComparison.Ordinal);
        Assert.DoesNotContain($"<td>{NotebookHtml.MaxRows}</td>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_readout_view_names_the_experiment_and_control_and_lists_its_notes()
    {
        var stats = new List<VariantStats> { new("control", 10m, 1000, 100, 1000m, 1000 * 10.0 * 10), new("b", 12m, 1000, 80, 960m, 80 * 12.0 * 12) };
        var readout = ReadoutCalculator.Compute("shop", "exp <1>", stats, 3, "control", null);
        var html = NotebookHtml.Readout(readout);
        Assert.Contains("Readout of exp &lt;1&gt; (shop), control control", html, StringComparison.Ordinal);
        Assert.Contains("users in more than one variant (left out): 3", html, StringComparison.Ordinal);
        Assert.Contains("<td>0.1</td>", html, StringComparison.Ordinal); // the control's rate, 100 / 1000
        Assert.Contains("<td>0.08</td>", html, StringComparison.Ordinal);
    }
}
