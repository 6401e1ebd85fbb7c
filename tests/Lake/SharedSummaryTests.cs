using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using PricingOptimizer.EventLog;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Lake;

/// <summary>
/// Summaries persisted under <c>{lake}/_summaries/</c> and shared by every process (README "Shared summaries"): a new
/// reader takes them up instead of building, folds only what is new, and always answers what a reader that builds
/// everything from the raw events answers — after crashes while persisting, two writers at once, compactions and lost files.
/// </summary>
public sealed partial class SharedSummaryTests : IDisposable
{
    private const string Tenant = "shop";
    private static readonly string[] Experiments = ["exp-a", "exp-b"];
    private readonly TempDirectory temp = new();
    private readonly DateTimeOffset start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private long position;

    private LakeLayout Lake => new(Path.Combine(temp.Path, "lake"));

    public void Dispose() => temp.Dispose();

    private LakeQueries Reader(bool share = true, int lookbackDays = LakeQueries.DefaultCupedLookbackDays, Action<SummaryPersistStep>? afterStep = null) =>
        new(Lake, 64, Path.Combine(temp.Path, "spill"), lookbackDays, share) { AfterSummaryPersistStep = afterStep };

    /// <summary>
    /// Users of both experiments (some see two variants, some are assigned again later), purchases before and after the
    /// first assign (some retried), and purchases in another experiment 1 to 45 days before it (CUPED's pre-period, partly
    /// outside the 30-day lookback), landed in files of 1 to 60 events over several days, in an order that is not time order.
    /// </summary>
    private async Task LandAsync(int seed, int users, string userPrefix = "u")
    {
        var random = new Random(seed);
        string[] variants = ["control", "b", "c"];
        var events = new List<PricingEvent>();
        for (var u = 0; u < users; u++)
        {
            var user = userPrefix + u;
            var experiment = Experiments[random.Next(Experiments.Length)];
            var variant = variants[random.Next(3)];
            var first = start.AddMinutes(random.Next(60 * 24 * 6));
            var id = $"{seed}-{u}";
            events.Add(new PricingEvent($"a-{id}", EventType.Assign, experiment, variant, user, 10m + Array.IndexOf(variants, variant), null, "USD", first));
            if (random.Next(6) == 0)
            {
                var other = random.Next(2) == 0 ? variant : variants[random.Next(3)];
                events.Add(new PricingEvent($"a2-{id}", EventType.Assign, experiment, other, user, 11m, null, "USD", first.AddMinutes(random.Next(-300, 300))));
            }

            if (random.Next(3) == 0)
            {
                var bought = new PricingEvent($"c-{id}", EventType.Convert, experiment, variant, user, 10m, random.Next(3) == 0 ? 20m + random.Next(80) : null,
                    "USD", first.AddMinutes(random.Next(-60, 900)));
                events.Add(bought);
                if (random.Next(4) == 0)
                {
                    events.Add(bought); // a retried convert: counts once
                }
            }

            if (random.Next(4) == 0)
            {
                events.Add(new PricingEvent($"p-{id}", EventType.Convert, "exp-0", "a", user, 5m, 5m + random.Next(40), "USD",
                    first.AddDays(-1 - random.Next(45))));
            }
        }

        foreach (var e in events.OrderBy(_ => random.Next()).Chunk(1 + random.Next(60)))
        {
            foreach (var day in e.GroupBy(x => DateOnly.FromDateTime(x.OccurredAt.UtcDateTime)))
            {
                var records = day.Select(x => new LogRecord("embedded", position++, new TenantEvent(Tenant, start, x))).ToList();
                await ParquetEventWriter.WriteAsync(Lake.FilePath(Tenant, day.Key, "embedded", records[0].Position), records, CancellationToken.None);
            }
        }
    }

    /// <summary>Every figure a readout, a recommendation and the dashboard read from a summary, as a string to compare.</summary>
    private static async Task<string> FiguresAsync(LakeQueries queries)
    {
        var lines = new List<string>();
        foreach (var experiment in Experiments)
        {
            foreach (var cap in new double?[] { null, 0.9 })
            {
                var (variants, multiple, moments) = await queries.ExperimentReadoutStatsAsync(Tenant, experiment, cap, CancellationToken.None);
                lines.Add($"{experiment} cap {cap}: {string.Join("; ", variants)} multiple {multiple}");
                lines.Add($"  moments cap {moments!.Cap}: {string.Join("; ", moments.Variants)}");
                lines.Add($"  buyers: {string.Join("; ", await queries.ExperimentBuyersAsync(Tenant, experiment, cap, CancellationToken.None))}");
            }

            lines.Add($"  days: {string.Join("; ", await queries.ExperimentDailyAsync(Tenant, experiment, CancellationToken.None))}");
        }

        // Sums of doubles (squares, units) depend on the order DuckDB adds in: compared to ten significant digits.
        return FloatingPoint().Replace(string.Join("\n", lines),
            m => double.Parse(m.Value, CultureInfo.InvariantCulture).ToString("G10", CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"-?\d+\.\d+(E[-+]?\d+)?")]
    private static partial Regex FloatingPoint();

    /// <summary>What a reader that shares nothing answers: every figure built from the raw events of the lake as it is now.</summary>
    private async Task<string> ReferenceAsync()
    {
        using var reference = Reader(share: false);
        var figures = await FiguresAsync(reference);
        Assert.Equal(0, reference.SummaryLoads);
        return figures;
    }

    private string SummariesRoot => Path.Combine(Lake.Root, "_summaries");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_new_reader_takes_up_the_persisted_summaries_folds_only_new_files_and_answers_what_a_build_from_the_raw_events_does(int seed)
    {
        await LandAsync(seed, 500);
        using (var first = Reader())
        {
            Assert.Equal(await ReferenceAsync(), await FiguresAsync(first));
            await first.FlushSummariesAsync();
            Assert.Equal(0, first.SummaryPersistFailures);
            Assert.True(first.SummariesPersisted >= 3, $"{first.SummariesPersisted} persisted: two experiments and the tenant's purchases");
        }

        using (var second = Reader())
        {
            Assert.Equal(await ReferenceAsync(), await FiguresAsync(second));
            Assert.Equal((0, 2), (second.SummaryRebuilds, (int)second.SummaryLoads));

            // New files (new users, and purchases and assigns of known ones): folded, not rebuilt, and persisted for the next reader.
            await LandAsync(seed + 100, 200);
            await LandAsync(seed, 120, userPrefix: "u"); // the same users again: repeated events change nothing
            Assert.Equal(await ReferenceAsync(), await FiguresAsync(second));
            Assert.Equal(0, second.SummaryRebuilds);
            Assert.True(second.SummaryFoldedFiles > 0);
        }

        using (var third = Reader())
        {
            Assert.Equal(await ReferenceAsync(), await FiguresAsync(third));
            Assert.Equal((0L, 0L), (third.SummaryRebuilds, third.SummaryFoldedFiles));
        }

        // The events table's glob never reads the summaries: every event still counts once.
        using (var plain = Reader(share: false))
        {
            var counts = await plain.CountByTenantAsync(CancellationToken.None);
            Assert.Equal(Tenant, Assert.Single(counts).TenantId);
            Assert.NotEmpty(Directory.EnumerateFiles(SummariesRoot, "*.parquet", SearchOption.AllDirectories));
            Assert.Empty(Directory.EnumerateFiles(Lake.EventsRoot, "*.summary", SearchOption.AllDirectories));
        }

        // A reader computing pre-period revenue over another lookback cannot use them: it builds its own.
        using var otherLookback = Reader(lookbackDays: 7);
        await otherLookback.ExperimentReadoutStatsAsync(Tenant, "exp-a", null, CancellationToken.None);
        Assert.Equal((1L, 0L), (otherLookback.SummaryRebuilds, otherLookback.SummaryLoads));
    }

    /// <summary>Thrown where a process dies; every later step of that process throws it too (nothing runs after a crash).</summary>
    private sealed class Killed : Exception;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    public async Task A_crash_between_any_two_steps_of_persisting_never_counts_an_event_twice_or_misses_one(int killAtStep)
    {
        await LandAsync(7, 400);
        using (var first = Reader())
        {
            await FiguresAsync(first);
            await first.FlushSummariesAsync();
        }

        // The next process folds new files, then dies at the killAtStep-th step of persisting what it folded.
        await LandAsync(8, 150);
        await LandAsync(7, 50);
        var steps = new List<SummaryPersistStep>();
        var dead = false;
        var crashing = Reader(afterStep: step =>
        {
            steps.Add(step);
            if (dead || steps.Count == killAtStep)
            {
                dead = true;
                throw new Killed();
            }
        });
        await FiguresAsync(crashing);
        await Assert.ThrowsAsync<Killed>(crashing.FlushSummariesAsync);

        crashing.Dispose();
        Assert.True(dead, $"a persist has fewer than {killAtStep} steps: {string.Join(", ", steps)}");

        await LandAsync(9, 80);
        using var next = Reader();
        Assert.Equal(await ReferenceAsync(), await FiguresAsync(next));
        Assert.Equal(0, next.SummaryRebuilds);
        await next.FlushSummariesAsync();
        using var after = Reader();
        Assert.Equal(await ReferenceAsync(), await FiguresAsync(after));
    }

    [Fact]
    public async Task Two_readers_persisting_at_once_leave_valid_summaries_and_a_third_takes_up_the_newest()
    {
        await LandAsync(11, 600);
        using var one = Reader();
        using var two = Reader();
        await Task.WhenAll(FiguresAsync(one), FiguresAsync(two));
        await Task.WhenAll(one.FlushSummariesAsync(), two.FlushSummariesAsync());
        var folder = Directory.GetDirectories(Path.Combine(SummariesRoot, "tenant_id=" + Tenant), "experiment=exp-a").Single();
        // Each published its own generation, unless one took up the other's before building (whichever ran first).
        Assert.InRange(Directory.GetFiles(folder, "*.summary").Length, 1, 2);

        await LandAsync(12, 100);
        await Task.WhenAll(FiguresAsync(one), FiguresAsync(two));
        await Task.WhenAll(one.FlushSummariesAsync(), two.FlushSummariesAsync());
        using var third = Reader();
        Assert.Equal(await ReferenceAsync(), await FiguresAsync(third));
        Assert.Equal((0L, 0L), (third.SummaryRebuilds, third.SummaryFoldedFiles));
    }

    [Fact]
    public async Task A_persisted_summary_stays_valid_across_compactions_and_one_whose_file_was_lost_is_rebuilt()
    {
        await LandAsync(21, 500);
        using (var first = Reader())
        {
            await FiguresAsync(first);
        }

        var compactor = new LakeCompactor(Lake, new CompactionOptions { MinFiles = 2, MinFileAgeSeconds = 60 },
            new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(5)), NullLogger<LakeCompactor>.Instance, spillRoot: Path.Combine(temp.Path, "spill"));
        var merged = await compactor.CompactAsync(cancellationToken: CancellationToken.None);
        Assert.NotEmpty(merged);
        using (var afterCompaction = Reader())
        {
            Assert.Equal(await ReferenceAsync(), await FiguresAsync(afterCompaction));
            Assert.Equal((0L, 0L), (afterCompaction.SummaryRebuilds, afterCompaction.SummaryFoldedFiles));
        }

        // A file removed by hand (not merged): no persisted summary matches the lake any more, so each experiment is rebuilt.
        File.Delete(Directory.EnumerateFiles(Lake.EventsRoot, "*.parquet", SearchOption.AllDirectories).First());
        using var afterLoss = Reader();
        Assert.Equal(await ReferenceAsync(), await FiguresAsync(afterLoss));
        Assert.Equal(2, afterLoss.SummaryRebuilds);
    }

    [Fact]
    public async Task A_file_of_purchases_in_another_experiment_moves_only_the_pre_period_revenue_and_is_folded_not_rebuilt()
    {
        await LandAsync(41, 400);
        using var reader = Reader();
        var before = await FiguresAsync(reader);
        Assert.Equal(await ReferenceAsync(), before);
        var (built, folded) = (reader.SummaryRebuilds, reader.SummaryFoldedFiles);

        // Purchases in exp-0 two days before the first assign of 100 known users (inside every user's 30-day lookback):
        // no assign or convert of exp-a or exp-b, but CUPED's covariate of those users grows.
        var records = Enumerable.Range(0, 100)
            .Select(u => new PricingEvent($"pre-{u}", EventType.Convert, "exp-0", "a", "u" + u, 5m, 30m, "USD", start.AddDays(-2)))
            .Select(e => new LogRecord("embedded", position++, new TenantEvent(Tenant, start, e)))
            .ToList();
        await ParquetEventWriter.WriteAsync(Lake.FilePath(Tenant, DateOnly.FromDateTime(start.AddDays(-2).UtcDateTime), "embedded", records[0].Position),
            records, CancellationToken.None);

        var after = await FiguresAsync(reader);
        Assert.NotEqual(before, after);
        Assert.Equal(await ReferenceAsync(), after);
        Assert.Equal(built, reader.SummaryRebuilds);
        Assert.True(reader.SummaryFoldedFiles > folded);
    }

    [Fact]
    public async Task A_generation_carries_the_figures_already_read_and_a_reader_whose_manifest_figures_are_damaged_reads_the_tables()
    {
        await LandAsync(51, 400);
        using (var first = Reader())
        {
            await FiguresAsync(first);
            await first.FlushSummariesAsync();
        }

        var manifests = Directory.EnumerateFiles(SummariesRoot, "*.summary", SearchOption.AllDirectories)
            .Where(p => Path.GetDirectoryName(p)!.Contains("experiment=", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, manifests.Count);
        Assert.All(manifests, m => Assert.Contains(File.ReadAllLines(m), line => line.StartsWith("figures {", StringComparison.Ordinal)));

        using (var second = Reader())
        {
            Assert.Equal(await ReferenceAsync(), await FiguresAsync(second));
            Assert.Equal((0L, 2L), (second.SummaryRebuilds, second.SummaryLoads));
        }

        // Figures that no longer parse (a truncated line, a hand edit): the generation is still taken up, its figures read from its tables.
        foreach (var manifest in manifests)
        {
            File.WriteAllLines(manifest, File.ReadAllLines(manifest).Select(line => line.StartsWith("figures ", StringComparison.Ordinal) ? line[..40] : line));
        }

        using var third = Reader();
        Assert.Equal(await ReferenceAsync(), await FiguresAsync(third));
        Assert.Equal((0L, 2L), (third.SummaryRebuilds, third.SummaryLoads));
    }

    [Fact]
    public async Task A_lake_whose_folder_cannot_be_written_still_answers_from_summaries_in_memory()
    {
        await LandAsync(31, 200);
        Directory.CreateDirectory(SummariesRoot);
        File.WriteAllText(Path.Combine(SummariesRoot, "tenant_id=" + Tenant), "a file where the tenant's folder would go");
        using var reader = Reader();
        Assert.Equal(await ReferenceAsync(), await FiguresAsync(reader));
        await reader.FlushSummariesAsync();
        Assert.True(reader.SummaryPersistFailures > 0);
        Assert.Equal(0, reader.SummariesPersisted);
    }
}
