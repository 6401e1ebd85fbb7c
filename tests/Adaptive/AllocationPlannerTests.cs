using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.Adaptive;
using PricingOptimizer.EventLog;
using PricingOptimizer.Events;
using PricingOptimizer.Experiments;
using PricingOptimizer.Lake;
using PricingOptimizer.Pricing;
using PricingOptimizer.Tests.Fixtures;
using ExperimentAllocation = PricingOptimizer.Experiments.Allocation;

namespace PricingOptimizer.Tests.Adaptive;

/// <summary>An adaptive update's decision: fixed, burn-in, too few data, or weights from the demand model's draws.</summary>
public sealed class AllocationPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    private static Experiment Definition(ExperimentAllocation allocation, params double[] weights) => new("t", "e", "n", "EUR", ExperimentStatus.Active,
        [.. weights.Select((w, i) => new Variant("p" + i, 5m * (i + 1), w, i == 0))], Now.AddDays(-10), Now.AddDays(-10)) { Allocation = allocation };

    private static readonly ExperimentAllocation Adaptive = new() { Mode = AllocationMode.Adaptive };

    private static VariantStats[] Stats(params (long Users, long Conversions)[] counts) =>
        [.. counts.Select((c, i) => new VariantStats("p" + i, 5m * (i + 1), c.Users, c.Conversions, c.Conversions * 5m * (i + 1), 0))];

    private static double[][] Clear() => [[1.0, 1.1, 0.9, 1.05], [2.0, 2.1, 1.9, 2.2], [0.1, 0.2, 0.1, 0.15]];

    [Fact]
    public void A_fixed_allocation_proposes_the_configured_weights_and_never_asks_for_draws()
    {
        var proposal = AllocationPlanner.Plan(Definition(ExperimentAllocation.Fixed, 2, 1, 1), Stats((10, 1), (10, 1), (10, 1)), Now.AddDays(-3), Now, null,
            () => throw new InvalidOperationException("a fixed allocation needs no draws"));
        Assert.Equal("fixed", proposal.State);
        Assert.Equal([0.5, 0.25, 0.25], proposal.Weights.Values);
    }

    [Fact]
    public void The_split_stays_equal_until_one_cadence_has_passed_and_names_what_it_waits_for()
    {
        var enough = Stats((500, 100), (500, 90), (500, 80));
        var early = AllocationPlanner.Plan(Definition(Adaptive, 1, 1, 1), enough, Now.AddHours(-10), Now, null, Clear);
        Assert.Equal("burn_in", early.State);
        Assert.All(early.Weights.Values, w => Assert.Equal(1.0 / 3, w, 12));
        Assert.Contains(early.Reasons, r => r.Contains("10 hours since the first assign", StringComparison.Ordinal) && r.Contains("1d", StringComparison.Ordinal));

        var later = AllocationPlanner.Plan(Definition(Adaptive, 1, 1, 1), enough, Now.AddHours(-24), Now, null, Clear);
        Assert.Equal("update", later.State);
    }

    [Fact]
    public void A_variant_short_of_the_burn_in_counts_holds_the_equal_split_and_is_named()
    {
        var proposal = AllocationPlanner.Plan(Definition(Adaptive with { BurnInConversions = 40 }, 1, 1, 1), Stats((500, 100), (500, 39), (99, 80)),
            Now.AddDays(-3), Now, null, Clear);
        Assert.Equal("burn_in", proposal.State);
        Assert.Contains(proposal.Reasons, r => r.StartsWith("Burn-in: p1 has 500 users and 39 conversions", StringComparison.Ordinal));
        Assert.Contains(proposal.Reasons, r => r.StartsWith("Burn-in: p2 has 99 users", StringComparison.Ordinal));
        Assert.DoesNotContain(proposal.Reasons, r => r.Contains("p0", StringComparison.Ordinal));
    }

    [Fact]
    public void After_the_burn_in_the_weights_follow_the_draws_and_too_few_data_keep_them()
    {
        var stats = Stats((500, 100), (500, 90), (500, 80));
        var update = AllocationPlanner.Plan(Definition(Adaptive, 1, 1, 1), stats, Now.AddDays(-3), Now, null, Clear);
        Assert.Equal("update", update.State);
        Assert.Equal(1.0, update.Weights.Values.Sum(), 12);
        Assert.True(update.Weights["p1"] > update.Weights["p2"], string.Join(", ", update.Weights));
        Assert.Contains(update.Reasons, r => r.StartsWith("Top-two Thompson sampling over 4 draws", StringComparison.Ordinal));

        var current = new Dictionary<string, double> { ["p0"] = 0.2, ["p1"] = 0.6, ["p2"] = 0.2 };
        var none = AllocationPlanner.Plan(Definition(Adaptive, 1, 1, 1), stats, Now.AddDays(-3), Now, current, () => null);
        Assert.Equal("insufficient_data", none.State);
        Assert.Equal(current, none.Weights);
    }

    [Fact]
    public void A_failed_sample_ratio_check_freezes_the_weights_and_a_failed_drift_check_pauses_them_each_saying_so()
    {
        var stats = Stats((500, 100), (500, 90), (500, 80));
        var current = new Dictionary<string, double> { ["p0"] = 0.2, ["p1"] = 0.6, ["p2"] = 0.2 };
        var frozen = AllocationPlanner.Plan(Definition(Adaptive, 1, 1, 1), stats, Now.AddDays(-3), Now, current, Clear, new Safeguards(1e-5, 0.5));
        Assert.Equal("frozen", frozen.State);
        Assert.Equal(current, frozen.Weights);
        Assert.StartsWith("The sample-ratio check fails (p = 1E-05)", frozen.Reasons.Single(), StringComparison.Ordinal);
        Assert.Equal(1e-5, frozen.SampleRatioPValue);

        var paused = AllocationPlanner.Plan(Definition(Adaptive, 1, 1, 1), stats, Now.AddDays(-3), Now, current, Clear, new Safeguards(0.4, 2e-4));
        Assert.Equal("paused", paused.State);
        Assert.Equal(current, paused.Weights);
        Assert.Contains("drift check fails", paused.Reasons.Single(), StringComparison.Ordinal);

        // At the alarm level itself (p = 0.001) nothing is flagged.
        Assert.Equal("update", AllocationPlanner.Plan(Definition(Adaptive, 1, 1, 1), stats, Now.AddDays(-3), Now, current, Clear,
            new Safeguards(0.001, 0.001)).State);
    }

    [Fact]
    public void The_stopping_rule_waits_for_the_minimum_days_a_clear_leader_and_a_small_cost()
    {
        // p1 is best in every draw by a wide margin; the test has run three days of the seven.
        var clear = AllocationPlanner.Plan(Definition(Adaptive, 1, 1, 1), Stats((500, 100), (500, 90), (500, 80)), Now.AddDays(-3), Now, null, Clear);
        Assert.False(clear.Stop!.Stop);
        Assert.Equal("p1", clear.Stop.LeaderVariantId);
        Assert.Equal(1.0, clear.Stop.ChanceBest, 12);
        Assert.Equal(0, clear.Stop.ExpectedCost, 12);
        Assert.Equal("not yet: 3 of the minimum 7 days have run", clear.Stop.Message);
        Assert.Contains(clear.Reasons, r => r.StartsWith("Not yet: 3 of the minimum 7 days", StringComparison.Ordinal));

        var after = StoppingRule.Decide([("p0", 5m), ("p1", 10m), ("p2", 15m)], Clear(), 8, 7, "EUR");
        Assert.True(after.Stop);
        Assert.Equal("stop: price 10 EUR is best with 100.0 % probability and choosing it costs 0.00 % in expectation (< 0.5 %)", after.Message);

        // A near tie: the leader (by mean) is best in 3 of 5 draws and gives up 2% in expectation.
        double[][] tie = [[1.00, 1.00, 1.00, 1.00, 1.00], [1.10, 1.05, 0.90, 1.05, 0.95]];
        var open = StoppingRule.Decide([("a", 5m), ("b", 6m)], tie, 30, 7);
        Assert.False(open.Stop);
        Assert.Equal("b", open.LeaderVariantId);
        Assert.Equal(0.6, open.ChanceBest, 12);
        // E[max − leader] = (0.10 + 0.05) / 5 = 0.03 over E[max] = (1.10 + 1.05 + 1 + 1.05 + 1) / 5 = 1.04.
        Assert.Equal(0.03 / 1.04, open.ExpectedCost, 12);
        Assert.Equal("not yet: price 6 is best with 60.0 % probability (needs 95 %); choosing it costs 2.88 % in expectation (needs below 0.5 %)", open.Message);
    }
}

/// <summary><c>AllocationService</c> over a lake where one price clearly earns most and one clearly least.</summary>
public abstract class AllocationServiceTests(ControlPlaneKind kind) : IDisposable
{
    private const string AdminKey = "allocate-admin";
    private readonly IngestApiFactory api = new(ControlPlaneStores.With(kind, new Dictionary<string, string?> { ["Auth:AdminKey"] = AdminKey }));

    public void Dispose() => api.Dispose();

    /// <summary>An adaptive experiment "plans" at 5, 10 and 20 whose lake holds 1,200 users a price seen three days ago.</summary>
    private async Task<(string TenantId, HttpClient Client)> ShopAsync()
    {
        var (tenantId, _, client) = await api.CreateTenantAsync(AdminKey, "Adaptive shop", "pro");
        var body = new
        {
            experiment_id = "plans", name = "Plans", currency = "USD",
            variants = new object[]
            {
                new { variant_id = "p5", price = 5m, control = true }, new { variant_id = "p10", price = 10m }, new { variant_id = "p20", price = 20m },
            },
            allocation = new { mode = "adaptive", floor = 0.05, max_step = 0.2 },
        };
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/v1/experiments", body)).StatusCode);
        (await client.PostAsync("/v1/experiments/plans/start", null)).EnsureSuccessStatusCode();

        // Revenue per user: 5 × 50% = 2.5, 10 × 40% = 4.0, 20 × 5% = 1.0; 1,200 users a price, first seen 3 days ago.
        var lake = api.Services.GetRequiredService<LakeLayout>();
        var start = DateTimeOffset.UtcNow.AddDays(-3);
        var random = new Random(11);
        var records = new List<LogRecord>();
        foreach (var (variant, price, rate) in new[] { ("p5", 5m, 0.5), ("p10", 10m, 0.4), ("p20", 20m, 0.05) })
        {
            for (var u = 0; u < 1200; u++)
            {
                var user = $"{variant}-{u}";
                var at = EventValidator.TruncateToMicroseconds(start.AddSeconds(u));
                records.Add(new LogRecord("t", records.Count, new TenantEvent(tenantId, at, new PricingEvent("a-" + user, EventType.Assign, "plans", variant,
                    user, price, null, "USD", at))));
                if (random.NextDouble() < rate)
                {
                    records.Add(new LogRecord("t", records.Count, new TenantEvent(tenantId, at, new PricingEvent("c-" + user, EventType.Convert, "plans",
                        variant, user, price, null, "USD", at.AddMinutes(5)))));
                }
            }
        }

        foreach (var day in records.GroupBy(r => DateOnly.FromDateTime(r.Item.Event.OccurredAt.UtcDateTime)))
        {
            var chunk = day.ToList();
            await ParquetEventWriter.WriteAsync(lake.FilePath(tenantId, day.Key, "t", chunk[0].Position), chunk, CancellationToken.None);
        }

        return (tenantId, client);
    }

    [Fact]
    public async Task The_updater_stores_one_version_per_cadence_for_each_active_adaptive_experiment()
    {
        var (tenantId, _) = await ShopAsync();
        var updater = api.Services.GetRequiredService<PricingOptimizer.Hosting.AllocationUpdater>();
        var stored = Assert.Single(await updater.RunOnceAsync(CancellationToken.None));
        Assert.Equal((tenantId, "plans", 1), (stored.TenantId, stored.ExperimentId, stored.Version));
        Assert.Empty(await updater.RunOnceAsync(CancellationToken.None)); // within the cadence
        Assert.Single(await api.Services.GetRequiredService<PricingOptimizer.ControlPlane.IAllocationStore>().ListWeightVersionsAsync(tenantId, "plans", CancellationToken.None));
    }

    [Fact]
    public async Task An_adaptive_experiment_moves_traffic_toward_the_best_price_and_no_weight_below_the_floor_or_beyond_max_step()
    {
        var (tenantId, client) = await ShopAsync();
        var proposal = await api.Services.GetRequiredService<AllocationService>().ProposeAsync(tenantId, "plans", CancellationToken.None);
        Assert.True(proposal.State == "update", string.Join(" ", proposal.Reasons));
        Assert.Equal(1.0, proposal.Weights.Values.Sum(), 9);
        Assert.All(proposal.Weights.Values, w => Assert.InRange(w, 0.05 - 1e-12, (1.0 / 3) + 0.2 + 1e-12));
        Assert.All(proposal.Weights.Values, w => Assert.InRange(w, (1.0 / 3) - 0.2 - 1e-12, 1));
        Assert.True(proposal.Weights["p10"] > 1.0 / 3 && proposal.Weights["p20"] < 1.0 / 3, string.Join(", ", proposal.Weights));
        Assert.True(proposal.Details.Single(d => d.VariantId == "p20").Sunk, string.Join(" ", proposal.Reasons));

        // One update stores version 1; the next waits a cadence unless forced; each starts from the weights in force.
        var allocator = api.Services.GetRequiredService<AllocationService>();
        var first = await allocator.UpdateAsync(tenantId, "plans", force: false, CancellationToken.None);
        Assert.Equal((1, "stored version 1"), (first.Stored?.Version, first.Outcome));
        Assert.Equal(proposal.Weights, first.Stored!.Weights);
        var early = await allocator.UpdateAsync(tenantId, "plans", force: false, CancellationToken.None);
        Assert.Null(early.Stored);
        Assert.StartsWith("nothing stored: version 1 is in force until", early.Outcome, StringComparison.Ordinal);
        var forced = await allocator.UpdateAsync(tenantId, "plans", force: true, CancellationToken.None);
        Assert.Equal(2, forced.Stored?.Version);
        Assert.True(forced.Stored!.Weights["p20"] <= first.Stored.Weights["p20"] + 1e-12, "a sunk price keeps sinking toward the floor");

        // New users follow version 2: the sunk price gets few of them.
        var assigned = new List<string>();
        for (var u = 0; u < 600; u++)
        {
            var answer = await IngestApiFactory.ReadJsonAsync(await client.PostAsJsonAsync("/v1/assign", new { experiment_id = "plans", user_id = $"later-{u}" }));
            assigned.Add(answer.GetProperty("variant_id").GetString()!);
        }

        Assert.InRange(assigned.Count(v => v == "p20") / 600.0, 0, forced.Stored.Weights["p20"] + 0.06);
    }

    [Fact]
    public async Task The_api_the_dashboard_and_the_timeseries_show_the_weights_and_the_next_update()
    {
        var (tenantId, client) = await ShopAsync();
        var stored = (await api.Services.GetRequiredService<AllocationService>().UpdateAsync(tenantId, "plans", force: false, CancellationToken.None)).Stored!;

        var allocation = await IngestApiFactory.ReadJsonAsync(await client.GetAsync("/v1/experiments/plans/allocation"));
        Assert.Equal(1, allocation.GetProperty("in_force_version").GetInt32());
        var version = allocation.GetProperty("versions")[0];
        Assert.Equal(stored.Weights["p10"], version.GetProperty("weights").GetProperty("p10").GetDouble(), 12);
        Assert.Contains(version.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.StartsWith("Top-two Thompson", StringComparison.Ordinal));
        var next = allocation.GetProperty("next");
        Assert.Equal("update", next.GetProperty("state").GetString());
        // Every user so far arrived under the burn-in's equal split (1,200 a price): no sign of a broken split.
        Assert.True(next.GetProperty("sample_ratio_p_value").GetDouble() > 0.5);
        var stopping = next.GetProperty("stopping");
        Assert.False(stopping.GetProperty("stop").GetBoolean());
        Assert.Equal("p10", stopping.GetProperty("leader_variant_id").GetString());
        Assert.Contains("of the minimum 7 days have run", stopping.GetProperty("message").GetString(), StringComparison.Ordinal);

        var dashboard = await IngestApiFactory.ReadJsonAsync(await client.GetAsync("/v1/analytics/experiments"));
        var row = dashboard.GetProperty("experiments").EnumerateArray().Single(e => e.GetProperty("experiment_id").GetString() == "plans");
        var split = row.GetProperty("allocation");
        Assert.Equal(("adaptive", 1), (split.GetProperty("mode").GetString(), split.GetProperty("version").GetInt32()));
        Assert.Equal(stored.Weights["p20"], split.GetProperty("weights").GetProperty("p20").GetDouble(), 12);
        Assert.StartsWith("Not yet:", split.GetProperty("stopping").GetString(), StringComparison.Ordinal);

        // The lake's days are before version 1 began: each shows the burn-in's equal split.
        var series = await IngestApiFactory.ReadJsonAsync(await client.GetAsync("/v1/analytics/experiments/plans/timeseries"));
        Assert.All(series.GetProperty("days").EnumerateArray(), d =>
        {
            Assert.Equal(0, d.GetProperty("weight_version").GetInt32());
            Assert.Equal(1.0 / 3, d.GetProperty("weights").GetProperty("p5").GetDouble(), 12);
        });

        var readout = await IngestApiFactory.ReadJsonAsync(await client.GetAsync("/v1/experiments/plans/readout"));
        Assert.Equal(2, readout.GetProperty("allocation_periods").GetArrayLength());
        Assert.Equal(0, readout.GetProperty("allocation_periods")[1].GetProperty("users").GetInt64());

        // The monthly report charts the weights of each version from the first assign on.
        var report = await api.Services.GetRequiredService<PricingOptimizer.Reports.ReportGatherer>()
            .ExperimentAsync(tenantId, "plans", new PricingOptimizer.Reports.ReportSettings(), CancellationToken.None);
        Assert.NotNull(report.FirstAssignAt);
        var now = DateTimeOffset.UtcNow;
        var rendered = PricingOptimizer.Reports.ReportRenderer.Render(new PricingOptimizer.Reports.MonthlyReportData(tenantId, "Adaptive shop", "pro",
            now.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture), DateOnly.FromDateTime(now.UtcDateTime.AddDays(-5)),
            DateOnly.FromDateTime(now.UtcDateTime), now, new PricingOptimizer.Reports.ReportSettings(), null, 0, [report]));
        Assert.Contains("Adaptive weights over time", rendered.Html, StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(AppContext.BaseDirectory, "adaptive-report.html"), rendered.Html);
        Assert.Contains("weight_versions", rendered.Csv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_experiment_is_not_found()
    {
        var (tenantId, _, _) = await api.CreateTenantAsync(AdminKey, "Shop", "pro");
        var refused = await Assert.ThrowsAsync<Errors.NotFoundException>(() =>
            api.Services.GetRequiredService<AllocationService>().ProposeAsync(tenantId, "nope", CancellationToken.None));
        Assert.Equal("experiment_id", refused.Field);
    }
}

public sealed class AllocationServiceTestsOnSqlite() : AllocationServiceTests(ControlPlaneKind.Sqlite);

public sealed class AllocationServiceTestsOnPostgres() : AllocationServiceTests(ControlPlaneKind.Postgres);
