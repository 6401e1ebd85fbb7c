using PricingOptimizer.ControlPlane;
using PricingOptimizer.Lake;
using PricingOptimizer.Pricing;
using PricingOptimizer.Statistics;
using PricingOptimizer.Usage;

namespace PricingOptimizer.Reports;

/// <summary>The month's usage and bill, when the control plane knows the tenant and its plan.</summary>
public sealed record ReportUsage(MonthlyUsage Usage, MonthlyBill Bill);

/// <summary>
/// One experiment of a report: its readout, price response and recommendation — the same result objects the API and the
/// notebooks use — or, for each, why there is none.
/// </summary>
public sealed record ExperimentReport(
    string ExperimentId,
    string Currency,
    Readout? Readout,
    string? NoReadout,
    IReadOnlyList<VariantStats> Stats,
    PriceResponse? PriceResponse,
    string? NoPriceResponse,
    Recommendation? Recommendation,
    string? NoRecommendation,
    Goal Goal = Goal.Revenue)
{
    /// <summary>When its first counted assign happened; set for adaptive experiments, whose weights the report charts from then on.</summary>
    public DateTimeOffset? FirstAssignAt { get; init; }

    /// <summary>Why this experiment has no usable recommendation; null when it has one.</summary>
    public string? Unrecommended =>
        Readout is null ? "no readout: " + NoReadout
        : Recommendation is null ? NoRecommendation
        : Recommendation.Status == "ok" ? null
        : Recommendation.Reasoning.FirstOrDefault() ?? Recommendation.Status;
}

/// <summary>
/// Everything a tenant's monthly report shows. <see cref="Usage"/> is null when no control plane knows the tenant
/// (data imported, or a lake read alone): then only <see cref="LakeEvents"/> is known of its usage.
/// </summary>
public sealed record MonthlyReportData(
    string TenantId,
    string TenantName,
    string? Plan,
    string Month,
    DateOnly From,
    DateOnly To,
    DateTimeOffset GeneratedAt,
    ReportSettings Settings,
    ReportUsage? Usage,
    long LakeEvents,
    IReadOnlyList<ExperimentReport> Experiments);

/// <summary>
/// Gathers a monthly report's figures from the engine's services. Tenants, usage and billing are optional: without
/// them (the lake workbench: a lake alone) the report covers the lake's events and experiments.
/// </summary>
public sealed class ReportGatherer(LakeQueries lake, IExperimentStore store, ReadoutService readouts, PricingService pricing, TimeProvider time,
    ITenantStore? tenants = null, IMonthlyUsage? usage = null)
{
    /// <exception cref="Errors.ProblemException">A malformed month or tenant id.</exception>
    public async Task<MonthlyReportData> GatherAsync(string tenantId, string month, ReportSettings settings, CancellationToken cancellationToken)
    {
        LakeLayout.EnsureTenantId(tenantId);
        var (from, to) = Months.Range(month);
        var tenant = tenants is null ? null : await tenants.GetTenantAsync(tenantId, cancellationToken);
        ReportUsage? used = null;
        if (tenant is not null && usage is not null)
        {
            used = new ReportUsage(await usage.UsageAsync(tenantId, month, cancellationToken), await usage.BillAsync(tenantId, month, cancellationToken));
        }

        var lakeEvents = used?.Usage.Events ?? (await lake.EventsByDayAsync(tenantId, from, to, cancellationToken)).Sum(d => d.Events);
        var experiments = new List<ExperimentReport>();
        foreach (var (experimentId, _, _, _) in await lake.ExperimentsAsync(tenantId, from, to, cancellationToken))
        {
            experiments.Add(await ExperimentAsync(tenantId, experimentId, settings, cancellationToken));
        }

        return new MonthlyReportData(tenantId, tenant?.Name ?? tenantId, tenant?.Plan, month, from, to, time.GetUtcNow(), settings, used, lakeEvents,
            experiments);
    }

    /// <summary>One experiment's readout, price response and recommendation, each with why it is missing when it is.</summary>
    public async Task<ExperimentReport> ExperimentAsync(string tenantId, string experimentId, ReportSettings settings, CancellationToken cancellationToken)
    {
        var definition = await store.GetExperimentAsync(tenantId, experimentId, cancellationToken);
        Readout? readout = null;
        string? noReadout = null;
        try
        {
            readout = await readouts.GetAsync(tenantId, experimentId, null, cancellationToken);
        }
        catch (Errors.ProblemException e)
        {
            noReadout = e.Message;
        }

        Recommendation? recommendation = null;
        string? noRecommendation = null;
        if (readout is not null)
        {
            try
            {
                recommendation = await pricing.RecommendAsync(tenantId, experimentId, settings.Request(readout.ControlVariantId), cancellationToken);
            }
            catch (Errors.ProblemException e)
            {
                noRecommendation = e.Message;
            }
        }

        // Without a readout the report shows only why; the price response would not be shown.
        IReadOnlyList<VariantStats> stats = [];
        PriceResponse? fit = null;
        string? noFit = null;
        if (readout is not null)
        {
            (stats, _) = await lake.ExperimentStatsAsync(tenantId, experimentId, cancellationToken);
            fit = PriceResponse.Fit(stats, out noFit);
        }

        // The recommendation also knows the currency of experiments the control plane does not.
        var currency = definition?.Currency ?? recommendation?.Currency ?? await lake.ExperimentCurrencyAsync(tenantId, experimentId, cancellationToken) ?? "";
        return new ExperimentReport(experimentId, currency, readout, noReadout, stats, fit, fit is null ? noFit : null, recommendation, noRecommendation,
            definition?.Goal ?? Goal.Revenue)
        {
            FirstAssignAt = readout?.AllocationPeriods is null ? null : await lake.ExperimentStartAsync(tenantId, experimentId, cancellationToken),
        };
    }
}
