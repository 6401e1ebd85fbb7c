using PricingOptimizer.Lake;
using PricingOptimizer.Pricing;
using PricingOptimizer.Usage;

namespace PricingOptimizer.Reports;

/// <summary>What a report recommends for: the goal, the unit cost for profit, a floor for conversions.</summary>
public sealed record ReportSettings(Goal Goal = Goal.Revenue, decimal? UnitCost = null, decimal? PriceFloor = null, decimal? RevenueFloor = null)
{
    /// <summary>The recommendation request of one experiment of the report.</summary>
    public RecommendationRequest Request(string? controlVariantId = null) => new(Goal, UnitCost, controlVariantId, PriceFloor, RevenueFloor);
}

/// <summary>
/// Where a report was written and what it covers. <see cref="Unrecommended"/> names each experiment whose
/// recommendation could not be made, with the reason (the report still shows its readout).
/// </summary>
public sealed record ReportResult(string Directory, string HtmlPath, string CsvPath, int Experiments, int Charts, int Numbers,
    IReadOnlyList<string> Unrecommended);

/// <summary>
/// A tenant's monthly report: usage and bill against the plan, and for each experiment with events in the month its
/// readout, price response and recommendation with reasoning. <see cref="ReportGatherer"/> gathers the figures,
/// <see cref="ReportRenderer"/> renders one self-contained HTML file (charts embedded as PNG) and <c>numbers.csv</c>
/// holding every number the HTML shows; both are written to a temporary folder and moved into place, so a report
/// folder is either complete or absent.
/// </summary>
public sealed class MonthlyReport(ReportGatherer gatherer)
{
    public const string HtmlFile = "report.html";
    public const string CsvFile = "numbers.csv";

    /// <summary>The folder a tenant's report for <paramref name="month"/> goes to under <paramref name="root"/>.</summary>
    public static string Folder(string root, string tenantId, string month) => Path.Combine(root, tenantId, month);

    public static bool Exists(string root, string tenantId, string month) => File.Exists(Path.Combine(Folder(root, tenantId, month), HtmlFile));

    /// <exception cref="Errors.ProblemException">A malformed month.</exception>
    public async Task<ReportResult> WriteAsync(string tenantId, string month, string root, ReportSettings settings, CancellationToken cancellationToken)
    {
        LakeLayout.EnsureTenantId(tenantId);
        Months.Range(month);
        Charts.EnsureFonts();
        var data = await gatherer.GatherAsync(tenantId, month, settings, cancellationToken);
        return await WriteAsync(data, root, cancellationToken);
    }

    /// <summary>Renders gathered figures and writes them under <paramref name="root"/>, complete or not at all.</summary>
    public static async Task<ReportResult> WriteAsync(MonthlyReportData data, string root, CancellationToken cancellationToken)
    {
        var rendered = ReportRenderer.Render(data);
        var folder = Folder(root, data.TenantId, data.Month);
        var staging = folder + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(staging);
        await File.WriteAllTextAsync(Path.Combine(staging, HtmlFile), rendered.Html, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(staging, CsvFile), rendered.Csv, cancellationToken);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        Directory.Move(staging, folder);
        return new ReportResult(folder, Path.Combine(folder, HtmlFile), Path.Combine(folder, CsvFile), data.Experiments.Count, rendered.Charts,
            rendered.Numbers,
            [.. data.Experiments.Where(e => e.Unrecommended is not null).Select(e => $"{e.ExperimentId}: {e.Unrecommended}")]);
    }
}
