using Microsoft.Extensions.Options;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Events;
using PricingOptimizer.Experiments;
using PricingOptimizer.Pricing;
using PricingOptimizer.Statistics;
using PricingOptimizer.Tests.Fixtures;
using ExperimentAllocation = PricingOptimizer.Experiments.Allocation;

namespace PricingOptimizer.Tests.Adaptive;

/// <summary>
/// The readout and the recommendation of an adaptive experiment from the lake: per allocation period, combined with
/// the periods' shares of users; a fixed split's readout is untouched.
/// </summary>
public sealed class StratifiedReadoutTests
{
    private static readonly DateTimeOffset T0 = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A control plane that knows one experiment and its weight versions.</summary>
    private sealed class Definitions(Experiment experiment, params WeightVersion[] versions) : IExperimentStore, IAllocationStore
    {
        public Task<bool> InsertExperimentAsync(Experiment e, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> UpdateExperimentAsync(Experiment e, long expectedVersion, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<Experiment?> GetExperimentAsync(string tenantId, string experimentId, CancellationToken cancellationToken) =>
            Task.FromResult<Experiment?>(experimentId == experiment.ExperimentId ? experiment : null);

        public Task<IReadOnlyList<Experiment>> ListExperimentsAsync(string tenantId, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<Experiment>>([experiment]);

        public Task<bool> DeleteExperimentAsync(string tenantId, string experimentId, long expectedVersion, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<bool> AddWeightVersionAsync(WeightVersion version, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<WeightVersion>> ListWeightVersionsAsync(string tenantId, string experimentId, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<WeightVersion>>(versions);

        public Task<IReadOnlyList<FirstAssignment?>> FirstAssignmentsAsync(IReadOnlyList<FirstAssignmentRequest> requests, bool recordNew,
            CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private static Experiment Definition(ExperimentAllocation allocation) => new("t", "exp", "n", "USD", ExperimentStatus.Active,
        [new Variant("a", 10m, 1, true), new Variant("b", 11m, 1, false), new Variant("c", 12m, 1, false)], T0, T0) { Allocation = allocation };

    /// <summary>
    /// Prices 10, 11 and 12. Week 1: 500 users per variant at 10% conversion. Week 2 (weights 0.6/0.2/0.2 from day 7): conversion doubles for
    /// every price — 600, 200 and 200 users at 20%. Every buyer pays the price once.
    /// </summary>
    private static IEnumerable<PricingEvent> Events()
    {
        var cohorts = new (string Variant, decimal Price, int Users, int Buyers, double Day)[]
        {
            ("a", 10m, 500, 50, 0), ("b", 11m, 500, 50, 0), ("c", 12m, 500, 50, 0),
            ("a", 10m, 600, 120, 7), ("b", 11m, 200, 40, 7), ("c", 12m, 200, 40, 7),
        };
        var n = 0;
        foreach (var (variant, price, users, buyers, day) in cohorts)
        {
            for (var i = 0; i < users; i++, n++)
            {
                var at = T0.AddDays(day).AddMinutes(i);
                var user = "u" + n;
                yield return new PricingEvent("a-" + user, EventType.Assign, "exp", variant, user, price, null, "USD", at);
                if (i < buyers)
                {
                    yield return new PricingEvent("c-" + user, EventType.Convert, "exp", variant, user, price, price, "USD", at.AddMinutes(1));
                }
            }
        }
    }

    private static readonly WeightVersion Week2 = new("t", "exp", 1, T0.AddDays(7), new Dictionary<string, double> { ["a"] = 0.6, ["b"] = 0.2, ["c"] = 0.2 },
        ["test"]);

    [Fact]
    public async Task Weights_that_changed_give_period_weighted_rates_and_a_sample_ratio_check_against_them()
    {
        await using var landed = new LandedLake();
        await landed.LandAsync(Events(), T0.AddDays(14));
        var adaptive = Definition(new ExperimentAllocation { Mode = AllocationMode.Adaptive });
        var readout = await new ReadoutService(landed.Queries, new Definitions(adaptive, Week2)).GetAsync("t", "exp", null, CancellationToken.None);
        var v = readout.Variants.ToDictionary(x => x.VariantId);
        // Periods weigh 1,500 / 2,500 and 1,000 / 2,500: every price 0.6 · 10% + 0.4 · 20% = 14%. Pooled, "a" would read 15.5%
        // and "b" 12.9%: a lift of −17% for two identical prices.
        Assert.Equal(0.14, v["a"].ConversionRate!.Value, 9);
        Assert.Equal(0.14, v["b"].ConversionRate!.Value, 9);
        Assert.Equal(0, v["b"].Lift!.Value, 9);
        Assert.Equal(1.4 * 1.2, v["c"].RevenuePerUser!.Value, 9);
        Assert.Equal(1100, v["a"].Users);
        Assert.Null(v["b"].DifferenceCs);
        Assert.Equal(2, readout.AllocationPeriods!.Count);
        Assert.Equal([1500L, 1000L], readout.AllocationPeriods.Select(p => p.Users));
        Assert.Equal(0.6, readout.AllocationPeriods[1].Weights["a"], 9);
        // Users match the weights they arrived under exactly.
        Assert.Equal(1, readout.SrmPValue!.Value, 6);
        Assert.Contains(readout.Notes, n => n.Contains("allocation periods", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_fixed_split_reads_out_exactly_as_before_and_an_adaptive_one_without_changes_only_checks_its_burn_in_split()
    {
        await using var landed = new LandedLake();
        await landed.LandAsync(Events(), T0.AddDays(14));
        var fixedSplit = Definition(ExperimentAllocation.Fixed);
        var before = await new ReadoutService(landed.Queries, new LakeExperimentCatalogOf(fixedSplit)).GetAsync("t", "exp", null, CancellationToken.None);
        var now = await new ReadoutService(landed.Queries, new Definitions(fixedSplit, Week2)).GetAsync("t", "exp", null, CancellationToken.None);
        Assert.Null(now.AllocationPeriods);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(before), System.Text.Json.JsonSerializer.Serialize(now));
        // Pooled: "a" 170 of 1,100.
        Assert.Equal(170.0 / 1100, now.Variants.Single(x => x.VariantId == "a").ConversionRate!.Value, 12);

        var unchanged = await new ReadoutService(landed.Queries, new Definitions(Definition(new ExperimentAllocation { Mode = AllocationMode.Adaptive })))
            .GetAsync("t", "exp", null, CancellationToken.None);
        Assert.Single(unchanged.AllocationPeriods!);
        Assert.Equal(170.0 / 1100, unchanged.Variants.Single(x => x.VariantId == "a").ConversionRate!.Value, 12);
        // 1,100 / 700 / 700 against the burn-in's equal split: flagged.
        Assert.True(unchanged.SrmPValue < 0.001);
    }

    [Fact]
    public async Task The_recommendation_fits_the_stratified_counts_and_says_whether_to_stop()
    {
        await using var landed = new LandedLake();
        await landed.LandAsync(Events(), T0.AddDays(14));
        var adaptive = Definition(new ExperimentAllocation { Mode = AllocationMode.Adaptive, MinDays = 30 });
        var pricing = new PricingService(landed.Queries, new Definitions(adaptive, Week2), new DemandModelFolder(Path.GetTempPath()),
            Options.Create(new RecommendationOptions { Draws = 200, MinUsersPerPrice = 100 }), Options.Create(new StatisticsOptions()),
            new CharmPricing(new CharmOptions()), new Microsoft.Extensions.Time.Testing.FakeTimeProvider(T0.AddDays(14)));
        var recommendation = await pricing.RecommendAsync("t", "exp", new RecommendationRequest(Goal.Revenue), CancellationToken.None);
        Assert.Equal(2, recommendation.AllocationPeriods!.Count);
        Assert.Contains(recommendation.Reasoning, r => r.Contains("allocation periods", StringComparison.Ordinal));
        var observed = recommendation.ValueCurve.Where(p => p.ObservedValue is not null).ToDictionary(p => p.Price, p => p.ObservedValue!.Value);
        // The observed value per tested price is the stratified one, 14% of the price at every price (up to the rounding
        // of effective counts to whole users); pooled, 10 would read 15.5% and 11 only 12.9%.
        Assert.Equal("ok", Status(recommendation));
        Assert.InRange(observed[10m], 1.4 * 0.995, 1.4 * 1.005);
        Assert.InRange(observed[11m], 1.54 * 0.995, 1.54 * 1.005);
        Assert.InRange(observed[12m], 1.68 * 0.995, 1.68 * 1.005);
        var stop = recommendation.Stopping!;
        Assert.False(stop.Stop);
        Assert.Contains("of the minimum 30 days", stop.Message, StringComparison.Ordinal);
        Assert.Equal(14, stop.DaysRunning, 1);
    }

    private static string Status(Recommendation r) => r.Status + (r.Status == "ok" ? "" : ": " + string.Join(" ", r.Reasoning));

    /// <summary>A store with the experiment and no allocation store: the readout as it was before adaptive allocation.</summary>
    private sealed class LakeExperimentCatalogOf(Experiment experiment) : IExperimentStore
    {
        public Task<bool> InsertExperimentAsync(Experiment e, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> UpdateExperimentAsync(Experiment e, long expectedVersion, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<Experiment?> GetExperimentAsync(string tenantId, string experimentId, CancellationToken cancellationToken) =>
            Task.FromResult<Experiment?>(experiment);

        public Task<IReadOnlyList<Experiment>> ListExperimentsAsync(string tenantId, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<Experiment>>([experiment]);

        public Task<bool> DeleteExperimentAsync(string tenantId, string experimentId, long expectedVersion, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
