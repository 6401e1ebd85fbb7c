using Microsoft.Data.Analysis;
using Microsoft.Extensions.Options;
using PricingOptimizer.Lake;
using PricingOptimizer.Pricing;
using PricingOptimizer.Reports;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Analytics;

/// <summary>
/// The engine's services over a lake alone — no control plane, no server: what notebooks and offline reports build on.
/// Experiments come from the lake (<see cref="LakeExperimentCatalog"/>); readouts, recommendations, the dashboard, the
/// timeseries and report figures are the same objects the API returns, and each has a DataFrame form (<see cref="Frames"/>).
/// Readout summaries are kept in memory for the workbench's life (as the API keeps them), so only the first readout of an
/// experiment groups its events; dispose the workbench to free them.
/// </summary>
public sealed class LakeWorkbench : IDisposable
{
    private LakeWorkbench(string lakeRoot, TimeProvider time, RecommendationOptions recommendation, StatisticsOptions statistics)
    {
        Layout = new LakeLayout(lakeRoot);
        Lake = new LakeQueries(Layout, cupedLookbackDays: statistics.CupedLookbackDays);
        Experiments = new LakeExperimentCatalog(Lake);
        Readouts = new ReadoutService(Lake, Experiments, statistics);
        // Models beside the lake, where the API and po keep them by default ({data}/models next to {data}/lake).
        var models = new DemandModelFolder(Path.GetFullPath(Path.Combine(Layout.Root, "..", "models")));
        Pricing = new PricingService(Lake, Experiments, models, Options.Create(recommendation), Options.Create(statistics),
            new CharmPricing(new CharmOptions()), time);
        Dashboard = new DashboardService(Experiments, Readouts, Lake, Pricing, time);
        Timeseries = new TimeseriesService(Lake, Experiments);
        Reports = new ReportGatherer(Lake, Experiments, Readouts, Pricing, time);
    }

    public LakeLayout Layout { get; }

    public LakeQueries Lake { get; }

    public LakeExperimentCatalog Experiments { get; }

    public ReadoutService Readouts { get; }

    public PricingService Pricing { get; }

    public DashboardService Dashboard { get; }

    public TimeseriesService Timeseries { get; }

    public ReportGatherer Reports { get; }

    public void Dispose() => Lake.Dispose();

    /// <summary>Opens the lake at <paramref name="lakeRoot"/> (the folder holding <c>events/</c>).</summary>
    /// <exception cref="DirectoryNotFoundException">No lake there.</exception>
    public static LakeWorkbench Open(string lakeRoot, TimeProvider? time = null, RecommendationOptions? recommendation = null,
        StatisticsOptions? statistics = null)
    {
        var layout = new LakeLayout(lakeRoot);
        if (!Directory.Exists(layout.EventsRoot))
        {
            throw new DirectoryNotFoundException($"no lake at {layout.Root}: it has no events/ folder (po import or po land make one)");
        }

        return new LakeWorkbench(layout.Root, time ?? TimeProvider.System, recommendation ?? new RecommendationOptions(),
            statistics ?? new StatisticsOptions());
    }

    /// <summary>A tenant's events (each event_id once), of one experiment when <paramref name="experimentId"/> is given.</summary>
    public async Task<DataFrame> EventsAsync(string tenantId, string? experimentId = null, CancellationToken cancellationToken = default) =>
        (await Lake.ReadEventsAsync(tenantId, experimentId, cancellationToken)).ToDataFrame();

    /// <summary>A tenant's events per day from <paramref name="from"/> to <paramref name="to"/> inclusive.</summary>
    public async Task<DataFrame> EventsByDayAsync(string tenantId, DateOnly from, DateOnly to, CancellationToken cancellationToken = default) =>
        (await Lake.EventsByDayAsync(tenantId, from, to, cancellationToken)).ToDataFrame();

    /// <summary>The readout with the default statistics options, or <paramref name="options"/>.</summary>
    public Task<Readout> ReadoutAsync(string tenantId, string experimentId, string? controlVariantId = null, ReadoutOptions? options = null,
        CancellationToken cancellationToken = default) =>
        Readouts.GetAsync(tenantId, experimentId, controlVariantId, options, cancellationToken);

    public Task<Recommendation> RecommendAsync(string tenantId, string experimentId, RecommendationRequest request,
        CancellationToken cancellationToken = default) =>
        Pricing.RecommendAsync(tenantId, experimentId, request, cancellationToken);

    /// <summary>Every experiment of the tenant in the lake, as <c>GET /v1/analytics/experiments</c> shows them.</summary>
    public Task<Dashboard> DashboardAsync(string tenantId, double? minimumDetectableEffect = null, CancellationToken cancellationToken = default) =>
        Dashboard.GetAsync(tenantId, minimumDetectableEffect, cancellationToken);

    public Task<Timeseries> TimeseriesAsync(string tenantId, string experimentId, string metric = "conversion_rate",
        CancellationToken cancellationToken = default) =>
        Timeseries.GetAsync(tenantId, experimentId, metric, cancellationToken);

    /// <summary>The figures of a monthly report (usage is the lake's events only: no plan, no bill).</summary>
    public Task<MonthlyReportData> ReportAsync(string tenantId, string month, ReportSettings? settings = null, CancellationToken cancellationToken = default) =>
        Reports.GatherAsync(tenantId, month, settings ?? new ReportSettings(), cancellationToken);
}
