using Microsoft.Extensions.Time.Testing;
using System.Globalization;
using System.Text.RegularExpressions;
using CsvHelper;
using Microsoft.Extensions.Logging.Abstractions;
using PricingOptimizer.Analytics;
using PricingOptimizer.EventLog.Embedded;
using PricingOptimizer.Events;
using PricingOptimizer.Experiments;
using PricingOptimizer.Lake;
using PricingOptimizer.Pricing;
using PricingOptimizer.Reports;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Analytics;

/// <summary>
/// The engine over a lake alone (what notebooks and offline reports use): experiments found in the lake, readouts,
/// the dashboard and report figures without a control plane, and every result as a DataFrame with the same numbers.
/// </summary>
public sealed partial class LakeWorkbenchTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory temp = new();

    /// <summary>Users per variant, every n-th user buys, and the price, of the three-price test.</summary>
    private static readonly (string Variant, decimal Price, int Users, int EveryNth)[] Design =
        [("control", 10.00m, 300, 3), ("b", 12.50m, 200, 4), ("c", 14.99m, 150, 5)];

    private async Task<(string Lake, List<PricingEvent> Events)> LakeAsync()
    {
        var events = new List<PricingEvent>();
        var n = 0;
        foreach (var (variant, price, users, every) in Design)
        {
            for (var u = 0; u < users; u++, n++)
            {
                var user = $"{variant}-{u}";
                var at = Start.AddMinutes(n * 7); // spread over several UTC days
                events.Add(new PricingEvent($"a-{user}", EventType.Assign, "price-test", variant, user, price, null, "EUR", at));
                if (u % every == 0)
                {
                    // Every other buyer pays more than the price (an upsell): its own revenue.
                    events.Add(new PricingEvent($"c-{user}", EventType.Convert, "price-test", variant, user, price, u % 2 == 0 ? price + 5m : null,
                        "EUR", at.AddMinutes(3)));
                }
            }
        }

        for (var u = 0; u < 40; u++)
        {
            events.Add(new PricingEvent($"o-{u}", EventType.Assign, "other", u % 2 == 0 ? "control" : "x", $"o{u}", 5m, null, "EUR", Start.AddHours(u)));
        }

        // A retried delivery of one convert: the lake keeps each event_id once.
        var retried = events.First(e => e.Type == EventType.Convert);
        var delivered = events.Append(retried).Select(e => new TenantEvent("shop", Start, e)).ToList();
        var root = Path.Combine(temp.Path, "lake");
        await using var log = new SqliteEventLog(Path.Combine(temp.Path, "eventlog.db"));
        var lander = new Lander(log, new LakeLayout(root), new LanderOptions { BatchSize = 500, FlushIntervalMs = 50 }, NullLogger<Lander>.Instance);
        using var consumer = log.OpenConsumer("g");
        foreach (var chunk in delivered.Chunk(300))
        {
            await log.AppendAsync(chunk, CancellationToken.None);
            await lander.LandBatchAsync(consumer, CancellationToken.None);
        }

        return (root, events);
    }

    [Fact]
    public async Task A_lake_alone_gives_its_experiments_readouts_and_dashboard_and_the_frames_hold_the_same_numbers()
    {
        var (root, events) = await LakeAsync();
        using var bench = LakeWorkbench.Open(root, new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero)));

        var dashboard = await bench.DashboardAsync("shop");
        Assert.Equal(["other", "price-test"], dashboard.Experiments.Select(e => e.ExperimentId).Order());
        var test = dashboard.Experiments.Single(e => e.ExperimentId == "price-test");
        Assert.Equal((PricingOptimizer.Experiments.ExperimentStatus.Active, "EUR", "control", 650L),
            (test.Status, test.Currency, test.ControlVariantId, test.Users));
        Assert.Equal(new DateOnly(2026, 11, 2), test.StartDate);
        Assert.Equal(27, test.DaysRunning);

        var readout = await bench.ReadoutAsync("shop", "price-test");
        var frame = readout.ToDataFrame();
        Assert.Equal(3, frame.Rows.Count);
        for (var i = 0; i < Design.Length; i++)
        {
            var (variant, price, users, every) = Design[i];
            var buyers = Enumerable.Range(0, users).Where(u => u % every == 0).ToList();
            var revenue = buyers.Sum(u => u % 2 == 0 ? price + 5m : price);
            // Rows come in price order, as the readout's table shows them.
            Assert.Equal(variant, frame["variant_id"][i]);
            Assert.Equal(variant == "control", frame["control"][i]);
            Assert.Equal(price, frame["price"][i]);
            Assert.Equal((long)users, frame["users"][i]);
            Assert.Equal((long)buyers.Count, frame["conversions"][i]);
            Assert.Equal(revenue, frame["revenue"][i]);
            Assert.Equal((double)buyers.Count / users, (double)frame["conversion_rate"][i]!, 12);
            var row = readout.Variants.Single(v => v.VariantId == variant);
            Assert.Equal(row.LiftCi?[0], (double?)frame["lift_low"][i]);
            Assert.Equal(row.LiftCi?[1], (double?)frame["lift_high"][i]);
        }

        Assert.Null(frame["lift"][0]); // the control has no lift: a null cell, not 0

        // The events frame: each event_id once; revenue is what a convert counts (its own, else its price), null on assigns.
        var eventsFrame = await bench.EventsAsync("shop", "price-test");
        var expected = events.Where(e => e.ExperimentId == "price-test").ToList();
        Assert.Equal(expected.Count, eventsFrame.Rows.Count);
        var byId = expected.ToDictionary(e => e.EventId);
        for (var i = 0; i < eventsFrame.Rows.Count; i++)
        {
            var e = byId[(string)eventsFrame["event_id"][i]];
            Assert.Equal(e.Type == EventType.Convert ? e.Revenue ?? e.Price : null, (decimal?)eventsFrame["revenue"][i]);
            Assert.Equal(e.Revenue is not null, eventsFrame["revenue_given"][i]);
        }

        // The dashboard frame: one row per experiment and variant.
        var dashboardFrame = dashboard.ToDataFrame();
        Assert.Equal(5, dashboardFrame.Rows.Count);
        // The timeseries frame: the last day's cumulative users are the readout's.
        var series = (await bench.TimeseriesAsync("shop", "price-test")).ToDataFrame();
        var last = series["date"].Cast<DateTime>().Max();
        Assert.True(last > new DateTime(2026, 11, 2, 0, 0, 0, DateTimeKind.Utc)); // more than one day
        var lastUsers = Enumerable.Range(0, (int)series.Rows.Count).Where(i => (DateTime)series["date"][i]! == last)
            .ToDictionary(i => (string)series["variant_id"][i], i => (long)series["users"][i]!);
        Assert.Equal(Design.ToDictionary(d => d.Variant, d => (long)d.Users), lastUsers);
    }

    [Fact]
    public async Task Recommendations_over_a_lake_alone_match_the_frames()
    {
        var (root, _) = await LakeAsync();
        using var bench = LakeWorkbench.Open(root);
        var revenue = await bench.RecommendAsync("shop", "price-test", new RecommendationRequest(Goal.Revenue));
        var profit = await bench.RecommendAsync("shop", "price-test", new RecommendationRequest(Goal.Profit, UnitCost: 4m));
        Assert.Equal("control", revenue.ControlVariantId); // the lake's catalog names the control as the readout does

        var frame = new[] { revenue, profit }.ToDataFrame();
        Assert.Equal(["revenue", "profit"], frame["goal"].Cast<string>());
        Assert.Equal(revenue.RecommendedPrice, frame["recommended_price"][0]);
        Assert.Equal(profit.Confidence, frame["confidence"][1]);
        var models = revenue.ModelsFrame();
        Assert.Equal(revenue.Models.Count, models.Rows.Count);
        Assert.Equal(1.0, models["weight"].Cast<double?>().Sum()!.Value, 6);
        var curve = revenue.ValueCurveFrame();
        Assert.Equal(revenue.ValueCurve.Count, curve.Rows.Count);
        Assert.All(Enumerable.Range(0, (int)curve.Rows.Count),
            i => Assert.InRange((double)curve["expected_value"][i]!, (double)curve["lower"][i]!, (double)curve["upper"][i]!));
        // The observed value per user sits beside the fit at the tested prices, and nowhere else.
        var observed = Enumerable.Range(0,
            (int)curve.Rows.Count).Where(i => curve["observed_value"][i] is not null).Select(i => (decimal)curve["price"][i]!).ToList();
        Assert.Equal(revenue.ValueCurve.Where(p => p.ObservedValue is not null).Select(p => p.Price), observed);
        Assert.NotEmpty(observed);
        var buyers = revenue.RevenueModelsFrame();
        Assert.Equal(revenue.RevenueModels.Count, buyers.Rows.Count);
        Assert.Equal(1.0, buyers["weight"].Cast<double?>().Sum()!.Value, 6);
    }

    [Fact]
    public async Task The_lake_alone_is_read_only_and_an_unknown_experiment_or_folder_says_so()
    {
        var (root, _) = await LakeAsync();
        using var bench = LakeWorkbench.Open(root);
        Assert.Null(await bench.Experiments.GetExperimentAsync("shop", "nope", CancellationToken.None));
        var missing = await Assert.ThrowsAsync<Errors.NotFoundException>(() => bench.ReadoutAsync("shop", "nope"));
        Assert.Contains("nope", missing.Message, StringComparison.Ordinal);
        var definition = (await bench.Experiments.GetExperimentAsync("shop", "price-test", CancellationToken.None))!;
        Assert.Equal(["control", "b", "c"], definition.Variants.OrderBy(v => v.Price).Select(v => v.VariantId));
        await Assert.ThrowsAsync<NotSupportedException>(() => bench.Experiments.InsertExperimentAsync(definition with { ExperimentId = "new" },
            CancellationToken.None));
        await Assert.ThrowsAsync<NotSupportedException>(() => bench.Experiments.UpdateExperimentAsync(definition with { Status = ExperimentStatus.Paused }, 1, CancellationToken.None));

        // A tenant id that would leave the lake's folder is refused before any file is read.
        var outside = await Assert.ThrowsAsync<ArgumentException>(() => bench.EventsAsync("../shop"));
        Assert.Contains("tenant id", outside.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => bench.DashboardAsync("shop/../../x"));

        var nowhere = Path.Combine(temp.Path, "no-lake-here");
        var error = Assert.Throws<DirectoryNotFoundException>(() => LakeWorkbench.Open(nowhere));
        Assert.Contains(nowhere, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_report_gathered_from_a_lake_alone_renders_and_its_csv_holds_every_number_quoted_where_needed()
    {
        var (root, events) = await LakeAsync();
        using var bench = LakeWorkbench.Open(root);
        var data = await bench.ReportAsync("shop", "2026-11");
        Assert.Null(data.Usage); // no control plane: no plan, no bill
        Assert.Equal(events.Count, data.LakeEvents);
        Assert.Equal(["other", "price-test"], data.Experiments.Select(e => e.ExperimentId).Order());
        Assert.All(data.Experiments, e => Assert.NotNull(e.Readout));

        // An experiment id with a comma and a quote must survive the CSV.
        const string awkward = "price, \"spring\" test";
        var renamed = data with { Experiments = [.. data.Experiments.Select(e => e.ExperimentId == "price-test" ? e with { ExperimentId = awkward } : e)] };
        var rendered = ReportRenderer.Render(renamed);
        Assert.Contains("The control plane does not know this tenant", rendered.Html, StringComparison.Ordinal);
        Assert.Contains("Experiment price, &quot;spring&quot; test", rendered.Html, StringComparison.Ordinal);
        Assert.Equal(Charts(rendered.Html), rendered.Charts);

        using var reader = new CsvReader(new StringReader(rendered.Csv), CultureInfo.InvariantCulture);
        var rows = reader.GetRecords<CsvRow>().ToList();
        Assert.Equal(rendered.Numbers, rows.Count);
        var users = rows.Where(r => r.section == "readout:" + awkward && r.metric == "users").ToDictionary(r => r.subject,
            r => long.Parse(r.value, CultureInfo.InvariantCulture));
        Assert.Equal(Design.ToDictionary(d => d.Variant, d => (long)d.Users), users);
        Assert.Equal(events.Count, long.Parse(rows.Single(r => r.section == "usage" && r.metric == "events").value, CultureInfo.InvariantCulture));
    }

    private static int Charts(string html) => ImageTag().Matches(html).Count;

    [GeneratedRegex("src=\"data:image/png;base64,")]
    private static partial Regex ImageTag();

#pragma warning disable IDE1006 // CSV header names
    private sealed record CsvRow(string section, string subject, string metric, string value);
#pragma warning restore IDE1006

    public void Dispose() => temp.Dispose();
}
