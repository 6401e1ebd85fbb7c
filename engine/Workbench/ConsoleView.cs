using System.Globalization;
using System.Text;
using Microsoft.Data.Analysis;
using PricingOptimizer.Pricing;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Analytics;

/// <summary>
/// The notebooks' views for a console, for file-based apps (<c>dotnet run notebooks/….cs</c>): a frame as an aligned
/// table (the same rounding as <see cref="NotebookHtml"/>, at most <see cref="NotebookHtml.MaxRows"/> rows, numbers
/// right-aligned), a readout or recommendation as its headline and table, a <see cref="Figure"/> saved as a PNG in
/// <see cref="FigureDirectory"/> with its path printed.
/// </summary>
public static class ConsoleView
{
    /// <summary>Where figures are written: <c>PO_FIGURES</c> if set, else <c>figures/</c> under the current directory.</summary>
    public static string FigureDirectory { get; set; } =
        Environment.GetEnvironmentVariable("PO_FIGURES") is { Length: > 0 } folder ? folder : Path.Combine(Directory.GetCurrentDirectory(), "figures");

    /// <summary>Prints <paramref name="value"/> the way a notebook cell ending in it would show it.</summary>
    public static void Show(object? value, string? caption = null) => Console.Write(Text(value, caption));

    /// <summary>What <see cref="Show"/> prints.</summary>
    public static string Text(object? value, string? caption = null) => value switch
    {
        DataFrame frame => Table(frame, caption),
        Readout readout => readout.Headline + "\n" + Table(readout.ToDataFrame(),
            caption ?? $"Readout of {readout.ExperimentId} ({readout.TenantId}), control {readout.ControlVariantId ?? "—"}"),
        Recommendation r => r.Headline + "\n" + (r.Models.Count == 0 ? "" : Table(r.ModelsFrame(), "Demand families")) +
            Bullets("Reasoning", r.Reasoning) + Bullets("Next steps", r.NextSteps),
        Dashboard dashboard => Table(dashboard.ToDataFrame(), caption ?? $"{dashboard.Experiments.Count} experiments of {dashboard.TenantId}"),
        Timeseries series => Table(series.ToDataFrame(), caption ?? $"{series.Metric} of {series.ExperimentId} by day (cumulative)"),
        Figure figure => Save(figure),
        null => "—\n",
        string text => text + "\n",
        _ => NotebookHtml.Cell(value) + "\n",
    };

    /// <summary>A frame as an aligned table: a header, a rule, numbers right-aligned and text left-aligned.</summary>
    public static string Table(DataFrame frame, string? caption = null)
    {
        var shown = (int)Math.Min(frame.Rows.Count, NotebookHtml.MaxRows);
        var columns = frame.Columns.ToList();
        var cells = columns.Select(c => Enumerable.Range(0, shown).Select(i => NotebookHtml.Cell(c[i])).ToList()).ToList();
        var widths = columns.Select((c, j) => Math.Max(c.Name.Length, cells[j].DefaultIfEmpty("").Max(x => x.Length))).ToList();
        var numeric = columns.Select(c => c.DataType != typeof(string) && c.DataType != typeof(bool) && c.DataType != typeof(DateTime)).ToList();
        string Line(IEnumerable<string> values) => string.Join("  ", values.Select((v, j) => numeric[j] ? v.PadLeft(widths[j]) : v.PadRight(widths[j])))
            .TrimEnd();

        var text = new StringBuilder();
        var note = frame.Rows.Count > shown ? string.Create(CultureInfo.InvariantCulture, $"first {shown} of {frame.Rows.Count:N0} rows") : null;
        if (string.Join(" — ", new[] { caption, note }.Where(t => t is not null)) is { Length: > 0 } title)
        {
            text.Append(title).Append('\n');
        }

        text.Append(Line(columns.Select(c => c.Name))).Append('\n');
        text.Append(string.Join("  ", widths.Select(w => new string('-', w)))).Append('\n');
        for (var i = 0; i < shown; i++)
        {
            text.Append(Line(cells.Select(c => c[i]))).Append('\n');
        }

        return text.Append('\n').ToString();
    }

    private static string Bullets(string heading, IReadOnlyList<string> items) =>
        items.Count == 0 ? "" : heading + ":\n" + string.Concat(items.Select(i => "  - " + i + "\n"));

    private static string Save(Figure figure)
    {
        Directory.CreateDirectory(FigureDirectory);
        var name = new string([.. figure.Caption.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]).Trim('-');
        while (name.Contains("--", StringComparison.Ordinal))
        {
            name = name.Replace("--", "-", StringComparison.Ordinal);
        }

        var path = Path.Combine(FigureDirectory, (name.Length > 60 ? name[..60].TrimEnd('-') : name) + ".png");
        File.WriteAllBytes(path, figure.Png);
        return $"figure: {figure.Caption} → {path}\n";
    }
}
