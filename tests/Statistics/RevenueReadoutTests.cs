using System.Text;
using System.Text.Json;
using MathNet.Numerics.Distributions;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Statistics;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Statistics;

/// <summary>Statistics contract v2 (revenue cap, revenue lift, CUPED, confidence sequences, BH): what a user gains, and its edges.</summary>
public sealed class RevenueReadoutTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private static readonly JsonSerializerOptions Snake = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public async Task Pre_period_revenue_folded_file_by_file_in_any_arrival_order_equals_a_summary_built_at_once()
    {
        // The reference case 4 (converts in an older experiment before the test, returning customers), cut into 9 imports
        // that arrive out of time order: late assigns move first assigns earlier, late prior converts change X.
        var lines = await File.ReadAllLinesAsync(Path.Combine(ReferenceCaseTests.ReferenceFolder, "case-4.csv"));
        var random = new Random(14);
        var rows = lines.Skip(1).OrderBy(_ => random.Next()).ToList();
        var lake = new LakeLayout(Path.Combine(temp.Path, "lake"));
        var importer = new CsvImporter(lake, new EventValidator(TimeProvider.System), TimeProvider.System);
        using var warm = new LakeQueries(lake);
        var chunk = 0;
        foreach (var part in rows.Chunk((rows.Count / 9) + 1))
        {
            var csv = Path.Combine(temp.Path, $"part-{chunk++}.csv");
            await File.WriteAllTextAsync(csv, lines[0] + "\n" + string.Join("\n", part) + "\n", Encoding.UTF8);
            Assert.Empty((await importer.ImportAsync("t", csv, CancellationToken.None)).Errors);
            // The tenant's converts are shared by its experiments' summaries: on every other import, the other
            // experiment's summary brings them up to date first, so exp-1 folds against converts it did not add itself.
            if (chunk % 2 == 0)
            {
                await warm.ExperimentReadoutStatsAsync("t", "exp-old", null, CancellationToken.None);
            }

            foreach (var cap in new double?[] { null, 0.95 })
            {
                var folded = (await warm.ExperimentReadoutStatsAsync("t", "exp-1", cap, CancellationToken.None)).Moments!;
                using var fresh = new LakeQueries(lake);
                var built = (await fresh.ExperimentReadoutStatsAsync("t", "exp-1", cap, CancellationToken.None)).Moments!;
                Assert.Equal(built.Cap, folded.Cap);
                Assert.Equal(built.Variants.Count, folded.Variants.Count);
                foreach (var (a, b) in built.Variants.Zip(folded.Variants))
                {
                    Assert.Equal((a.VariantId, a.Users, a.UsersWithPrior), (b.VariantId, b.Users, b.UsersWithPrior));
                    foreach (var (x, y) in new[] { (a.MeanY, b.MeanY), (a.VarianceY, b.VarianceY), (a.MeanX, b.MeanX), (a.VarianceX, b.VarianceX),
                        (a.CovarianceXY, b.CovarianceXY) })
                    {
                        Assert.True(Math.Abs(x - y) <= 1e-9 * Math.Max(1, Math.Abs(x)), $"after import {chunk}: {x:R} vs {y:R}");
                    }
                }
            }
        }

        Assert.True(warm.SummaryRebuilds <= 3, "the warm summaries folded the imports instead of rebuilding");
    }

    private static string Json(Readout readout) => JsonSerializer.Serialize(readout, Snake);

    private static VariantStats Stats(string id, long users, long buyers, double meanRevenue) =>
        new(id, 10m, users, buyers, (decimal)(meanRevenue * users), meanRevenue * meanRevenue * users);

    [Fact]
    public void Without_pre_period_revenue_CUPED_is_off_with_a_note_and_nothing_is_NaN()
    {
        var moments = new RevenueMoments(null,
        [
            new VariantMoments("control", 1000, 2.0, 30.0, 0, 0, 0, 0),
            new VariantMoments("b", 1000, 2.4, 35.0, 0, 0, 0, 0),
        ]);
        var readout = ReadoutCalculator.Compute("t", "e", [Stats("control", 1000, 100, 2.0), Stats("b", 1000, 110, 2.4)], 0, "control", null, moments,
            new ReadoutOptions());

        Assert.Null(readout.CupedTheta);
        Assert.Null(readout.CupedVarianceReduction);
        Assert.All(readout.Variants, v => Assert.Null(v.RevenuePerUserCuped));
        var b = readout.Variants.Single(v => v.VariantId == "b");
        Assert.Null(b.RevenueLiftCuped);
        Assert.Null(b.RevenuePerUserCupedPValue);
        Assert.NotNull(b.RevenueLift);
        Assert.Contains(readout.Notes, n => n.Contains("CUPED is off", StringComparison.Ordinal));
        Assert.DoesNotContain("NaN", Json(readout), StringComparison.Ordinal);
    }

    [Fact]
    public void A_control_without_revenue_leaves_the_revenue_lift_undefined_with_a_note()
    {
        var moments = new RevenueMoments(null,
        [
            new VariantMoments("control", 500, 0, 0, 1.0, 4.0, 0, 100),
            new VariantMoments("b", 500, 1.5, 20.0, 1.1, 4.2, 0.8, 110),
        ]);
        var readout = ReadoutCalculator.Compute("t", "e", [Stats("control", 500, 0, 0), Stats("b", 500, 20, 1.5)], 0, "control", null, moments,
            new ReadoutOptions());
        var b = readout.Variants.Single(v => v.VariantId == "b");

        Assert.Null(b.RevenueLift);
        Assert.Null(b.RevenueLiftCi);
        Assert.NotNull(b.RevenueDifferenceCs);
        Assert.Contains(readout.Notes, n => n.Contains("no revenue yet", StringComparison.Ordinal));
        Assert.DoesNotContain("NaN", Json(readout), StringComparison.Ordinal);
    }

    [Fact]
    public void Revenue_that_never_varies_gives_degenerate_intervals_and_null_tests_never_NaN()
    {
        var moments = new RevenueMoments(null,
        [
            new VariantMoments("control", 300, 5, 0, 2, 0, 0, 300),
            new VariantMoments("b", 300, 5, 0, 2, 0, 0, 300),
        ]);
        var readout = ReadoutCalculator.Compute("t", "e", [Stats("control", 300, 300, 5), Stats("b", 300, 300, 5)], 0, "control", null, moments,
            new ReadoutOptions(Cuped: true));
        var b = readout.Variants.Single(v => v.VariantId == "b");

        Assert.Equal(0, b.RevenueLift);
        Assert.Equal([0.0, 0.0], b.RevenueLiftCi!);
        Assert.Equal([0.0, 0.0], b.RevenueDifferenceCs!);
        Assert.Null(readout.CupedTheta); // every user has the same pre-period revenue: it explains nothing
        Assert.Contains(readout.Notes, n => n.Contains("CUPED is off", StringComparison.Ordinal));
        Assert.DoesNotContain("NaN", Json(readout), StringComparison.Ordinal);
    }

    [Fact]
    public void Benjamini_Hochberg_adjusts_as_the_textbook_step_up_does()
    {
        // Benjamini & Hochberg (1995): p(i) · m / i, made monotone from the largest down; nulls stay null.
        // Sorted: 0.01·4/1 = 0.04, 0.03·4/2 = 0.06, 0.04·4/3 = 0.0533, 0.20·4/4 = 0.20; from the top: 0.20, 0.0533, 0.0533, 0.04.
        var adjusted = ReadoutCalculator.BenjaminiHochberg([0.01, 0.04, null, 0.03, 0.20]);
        Assert.Equal([0.04, Math.Round(0.16 / 3, 12), null, Math.Round(0.16 / 3, 12), 0.20],
            adjusted.Select(p => p is null ? (double?)null : Math.Round(p.Value, 12)));
    }

    /// <summary>
    /// Returning customers: half spent before the test (lognormal), and they buy more often and more. Treatment revenue is
    /// control revenue × (1 + lift), so the true relative lift of revenue per user is exactly <paramref name="lift"/>.
    /// </summary>
    private static VariantMoments Simulate(string id, int users, double lift, Random random)
    {
        var xs = new double[users];
        var ys = new double[users];
        var prior = new LogNormal(3, 0.5, random);
        var basket = new LogNormal(2, 0.5, random);
        for (var i = 0; i < users; i++)
        {
            var x = random.NextDouble() < 0.5 ? prior.Sample() : 0;
            var buys = random.NextDouble() < (x > 0 ? 0.5 : 0.1);
            xs[i] = x;
            ys[i] = buys ? ((0.8 * x) + basket.Sample()) * (1 + lift) : 0;
        }

        var meanX = xs.Average();
        var meanY = ys.Average();
        double vx = 0, vy = 0, cxy = 0;
        for (var i = 0; i < users; i++)
        {
            vx += (xs[i] - meanX) * (xs[i] - meanX);
            vy += (ys[i] - meanY) * (ys[i] - meanY);
            cxy += (xs[i] - meanX) * (ys[i] - meanY);
        }

        return new VariantMoments(id, users, meanY, vy / (users - 1), meanX, vx / (users - 1), cxy / (users - 1), xs.Count(x => x > 0));
    }

    [Fact]
    public void On_returning_customers_CUPED_narrows_the_interval_by_the_variance_it_removes_and_still_covers_the_true_lift()
    {
        const int runs = 1000, users = 2000;
        const double lift = 0.05;
        var random = new Random(20261129);
        int covered = 0, coveredPlain = 0;
        var widthRatios = new List<double>();
        var promised = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            var moments = new RevenueMoments(null, [Simulate("control", users, 0, random), Simulate("b", users, lift, random)]);
            var stats = moments.Variants.Select(m => Stats(m.VariantId, m.Users, 1, m.MeanY)).ToList();
            var readout = ReadoutCalculator.Compute("t", "e", stats, 0, "control", null, moments, new ReadoutOptions());
            var b = readout.Variants.Single(v => v.VariantId == "b");
            covered += b.RevenueLiftCupedCi![0] <= lift && lift <= b.RevenueLiftCupedCi[1] ? 1 : 0;
            coveredPlain += b.RevenueLiftCi![0] <= lift && lift <= b.RevenueLiftCi[1] ? 1 : 0;
            widthRatios.Add((b.RevenueLiftCupedCi[1] - b.RevenueLiftCupedCi[0]) / (b.RevenueLiftCi[1] - b.RevenueLiftCi[0]));
            promised.Add(Math.Sqrt(1 - readout.CupedVarianceReduction!.Value));
        }

        var coverage = (double)covered / runs;
        output.WriteLine($"variance removed {1 - promised.Average(p => p * p):P1}; CUPED interval width / plain {widthRatios.Average():F3} " +
            $"(promised {promised.Average():F3}); coverage CUPED {coverage:P1}, plain {(double)coveredPlain / runs:P1}");
        // The interval narrows by sqrt(1 − reduction), as the reported reduction promises (within 3%), and substantially.
        Assert.InRange(widthRatios.Average() / promised.Average(), 0.97, 1.03);
        Assert.True(widthRatios.Average() < 0.9, $"CUPED width ratio {widthRatios.Average():F3}");
        // ≈ 95% coverage: with 1,000 runs, about 3 standard errors either side.
        Assert.InRange(coverage, 0.93, 0.97);
        Assert.InRange((double)coveredPlain / runs, 0.93, 0.97);
    }

    [Fact]
    public void Peeking_daily_for_30_days_at_AA_tests_the_confidence_sequences_keep_false_positives_under_5_percent_where_fixed_intervals_do_not()
    {
        const int experiments = 1000, days = 30, usersPerDay = 200;
        var random = new Random(20261130);
        var buy = new Bernoulli(0.1, random);
        var basket = new LogNormal(2.5, 0.8, random);
        int rateFalse = 0, revenueFalse = 0, fixedFalse = 0;
        for (var e = 0; e < experiments; e++)
        {
            var arms = new (long N, long Buyers, double Sum, double Squares)[2];
            bool rateHit = false, revenueHit = false, fixedHit = false;
            for (var day = 0; day < days; day++)
            {
                for (var arm = 0; arm < 2; arm++)
                {
                    for (var u = 0; u < usersPerDay; u++)
                    {
                        var y = buy.Sample() == 1 ? basket.Sample() : 0;
                        arms[arm] = (arms[arm].N + 1, arms[arm].Buyers + (y > 0 ? 1 : 0), arms[arm].Sum + y, arms[arm].Squares + (y * y));
                    }
                }

                var moments = arms.Select((a, i) => new VariantMoments(i == 0 ? "control" : "b", a.N, a.Sum / a.N,
                    (a.Squares - (a.Sum * a.Sum / a.N)) / (a.N - 1), 0, 0, 0, 0)).ToList();
                var stats = arms.Select((a, i) => new VariantStats(i == 0 ? "control" : "b", 10m, a.N, a.Buyers, (decimal)a.Sum, a.Squares)).ToList();
                var b = ReadoutCalculator.Compute("t", "aa", stats, 0, "control", null, new RevenueMoments(null, moments), new ReadoutOptions())
                    .Variants.Single(v => v.VariantId == "b");
                rateHit |= b.DifferenceCs![0] > 0 || b.DifferenceCs[1] < 0;
                revenueHit |= b.RevenueDifferenceCs![0] > 0 || b.RevenueDifferenceCs[1] < 0;
                fixedHit |= b.RevenueLiftCi![0] > 0 || b.RevenueLiftCi[1] < 0;
            }

            rateFalse += rateHit ? 1 : 0;
            revenueFalse += revenueHit ? 1 : 0;
            fixedFalse += fixedHit ? 1 : 0;
        }

        output.WriteLine($"A/A, {days} daily peeks: false positives rate CS {rateFalse}, revenue CS {revenueFalse}, fixed-horizon revenue interval " +
            $"{fixedFalse} of {experiments}");
        Assert.True(rateFalse <= experiments * 0.05, $"rate CS false positives {rateFalse} of {experiments}");
        Assert.True(revenueFalse <= experiments * 0.05, $"revenue CS false positives {revenueFalse} of {experiments}");
        Assert.True(fixedFalse > experiments * 0.05, $"the fixed-horizon interval peeked daily: {fixedFalse} of {experiments}");
    }
}
