using System.Globalization;
using Microsoft.Data.Analysis;
using PricingOptimizer.Pricing;
using PricingOptimizer.Reports;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Analytics;

/// <summary>A chart with its caption; a notebook cell that ends in one shows the picture.</summary>
public sealed record Figure(string Caption, byte[] Png);

/// <summary>
/// HTML views of the engine's results for notebooks. The engine's package registers them as the notebook kernel's HTML
/// formatters (<c>interactive-extensions/dotnet/extension.dib</c>), so a cell that ends in a readout, a recommendation,
/// a dashboard, a timeseries or a <see cref="Figure"/> shows it; they are plain strings, usable anywhere.
/// </summary>
public static class NotebookHtml
{
    /// <summary>At most this many rows of a frame are shown; the caption says how many there are.</summary>
    public const int MaxRows = 50;

    /// <summary>A frame as a table: numbers rounded for reading (4 significant digits), null cells as "—".</summary>
    public static string Frame(DataFrame frame, string? caption = null)
    {
        var shown = Math.Min(frame.Rows.Count, MaxRows);
        var rows = new List<string[]>();
        for (var i = 0; i < shown; i++)
        {
            rows.Add([.. frame.Columns.Select(c => Cell(c[i]))]);
        }

        var note = frame.Rows.Count > shown ? $"first {shown} of {frame.Rows.Count:N0} rows" : null;
        var title = string.Join(" — ", new[] { caption, note }.Where(t => t is not null));
        return (title.Length == 0 ? "" : $"<p><b>{Html.Encode(title)}</b></p>\n") + Html.Table([.. frame.Columns.Select(c => c.Name)], rows);
    }

    public static string Readout(Readout readout) =>
        Frame(readout.ToDataFrame(), $"Readout of {readout.ExperimentId} ({readout.TenantId}), control {readout.ControlVariantId ?? "—"}") +
        Paragraph($"Sample ratio check p = {Cell(readout.SrmPValue)}; users in more than one variant (left out): {readout.MultipleExposureUsers:N0}" +
                  (readout.RevenueCap is { } cap ? $"; revenue capped at {Cell(cap)}" : "") +
                  (readout.CupedTheta is null ? "; CUPED off" : $"; CUPED removes {Cell(readout.CupedVarianceReduction * 100)}% of the revenue " +
                      $"variance") + ".") +
        List("Notes", readout.Notes);

    public static string Recommendation(Recommendation recommendation) =>
        Paragraph(recommendation.Status == "ok"
            ? $"{recommendation.ExperimentId}, goal {Json.Wire.Name(recommendation.Goal)}: recommended {Cell(recommendation.RecommendedPrice)} " +
                $"{recommendation.Currency} " +
              $"(optimum {Cell(recommendation.OptimalPrice)}{(recommendation.Extrapolated ? ", extrapolated" : "")}), expected " +
                  $"{Cell(recommendation.ExpectedValue)} per user " +
              $"(95% {Cell(recommendation.ExpectedValueCi?[0])} to {Cell(recommendation.ExpectedValueCi?[1])}) against " +
                  $"{Cell(recommendation.ControlExpectedValue)} at the control " +
              $"{Cell(recommendation.ControlPrice)}; best tested price {Cell(recommendation.BestTestedPrice)}; confidence " +
                  $"{Cell(recommendation.Confidence * 100)}%."
            : $"{recommendation.ExperimentId}, goal {Json.Wire.Name(recommendation.Goal)}: {recommendation.Status}.") +
        (recommendation.Models.Count == 0 ? "" : Frame(recommendation.ModelsFrame(), "Demand families")) +
        List("Reasoning", recommendation.Reasoning) +
        List("Next steps", recommendation.NextSteps);

    public static string Dashboard(Dashboard dashboard) =>
        Frame(dashboard.ToDataFrame(), $"{dashboard.Experiments.Count} experiments of {dashboard.TenantId}, {dashboard.GeneratedAt:yyyy-MM-dd HH:mm} UTC");

    public static string Timeseries(Timeseries series) =>
        Frame(series.ToDataFrame(), $"{series.Metric} of {series.ExperimentId} by day (cumulative), control {series.ControlVariantId ?? "—"}");

    public static string Figure(Figure figure) => Html.Image(figure.Png, figure.Caption);

    /// <summary>One value as the views show it: numbers to 4 significant digits, prices to cents, missing as "—".</summary>
    internal static string Cell(object? value) => value switch
    {
        null => "—",
        double d when double.IsNaN(d) => "—",
        double d => d.ToString("G4", CultureInfo.InvariantCulture),
        float f => f.ToString("G4", CultureInfo.InvariantCulture),
        decimal m => m.ToString("0.00##", CultureInfo.InvariantCulture),
        DateTime t => t.TimeOfDay == TimeSpan.Zero ? t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : t.ToString("yyyy-MM-dd HH:mm:ss",
            CultureInfo.InvariantCulture),
        bool b => b ? "yes" : "no",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Paragraph(string text) => $"<p>{Html.Encode(text)}</p>\n";

    private static string List(string heading, IReadOnlyList<string> items) =>
        items.Count == 0 ? "" : $"<p><b>{Html.Encode(heading)}</b></p><ul>\n{string.Concat(items.Select(i => $"<li>{Html.Encode(i)}</li>\n"))}</ul>\n";
}
