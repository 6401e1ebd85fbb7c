using Microsoft.Extensions.Logging.Abstractions;
using PricingOptimizer.EventLog.Embedded;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Statistics;

/// <summary>The incremental per-experiment summaries give exactly what the raw events give, landing after landing.</summary>
public sealed class ExperimentSummaryTests : IDisposable
{
    private readonly TempDirectory temp = new();

    [Theory]
    [InlineData(LakeQueries.DefaultMemoryLimitMb)]
    [InlineData(16)] // DuckDB's smallest useful buffer pool: the same answers, spilled or not
    public async Task Summaries_match_the_raw_events_after_every_landing_late_data_and_a_rewritten_file(int memoryLimitMb)
    {
        var random = new Random(5);
        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        string[] variants = ["control", "b", "c"];
        var events = new List<PricingEvent>();
        for (var u = 0; u < 400; u++)
        {
            var user = "u" + u;
            var variant = variants[random.Next(3)];
            var first = start.AddMinutes(random.Next(20_000));
            events.Add(new PricingEvent($"a-{u}", EventType.Assign, "exp", variant, user, 10m + Array.IndexOf(variants, variant), null, "USD", first));
            if (random.Next(8) == 0)
            {
                // Some users see a second variant, some the same one again later.
                var other = random.Next(2) == 0 ? variant : variants[random.Next(3)];
                events.Add(new PricingEvent($"a2-{u}", EventType.Assign, "exp", other, user, 11m, null, "USD", first.AddMinutes(random.Next(-500, 500))));
            }

            if (random.Next(3) == 0)
            {
                var bought = new PricingEvent($"c-{u}", EventType.Convert, "exp", variant, user, 10m, random.Next(4) == 0 ? 25.5m : null, "USD",
                    first.AddMinutes(random.Next(-60, 600)));
                events.Add(bought);
                if (random.Next(5) == 0)
                {
                    events.Add(bought); // a retried convert: counts once
                }
            }
        }

        // Arrival order is not time order: late data lands after later data.
        var arrival = events.OrderBy(_ => random.Next()).Select(e => new TenantEvent("t", start, e)).ToList();
        await using var log = new SqliteEventLog(Path.Combine(temp.Path, "eventlog.db"));
        var lake = new LakeLayout(Path.Combine(temp.Path, "lake"));
        var lander = new Lander(log, lake, new LanderOptions { BatchSize = 97, FlushIntervalMs = 50 }, NullLogger<Lander>.Instance);
        using var queries = new LakeQueries(lake, memoryLimitMb, Path.Combine(temp.Path, "spill"));
        using var consumer = log.OpenConsumer("g");
        var landings = 0;
        foreach (var chunk in arrival.Chunk(97))
        {
            await log.AppendAsync(chunk, CancellationToken.None);
            await lander.LandBatchAsync(consumer, CancellationToken.None);
            landings++;
            await AssertSameAsync(queries, $"after landing {landings}");
        }

        Assert.True(landings > 3);
        var file = Directory.EnumerateFiles(lake.EventsRoot, "*.parquet", SearchOption.AllDirectories).First();
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(1)); // a replay rewrote it
        await AssertSameAsync(queries, "after a rewritten file");
        File.Delete(file);
        await AssertSameAsync(queries, "after a deleted file");
    }

    [Fact]
    public void Spill_folders_of_ended_processes_are_removed_and_nothing_of_an_instance_stays_after_dispose()
    {
        var root = Path.Combine(temp.Path, "spill");
        var dead = Directory.CreateDirectory(Path.Combine(root, "99999999-0123")).FullName; // above Linux's largest process id
        File.WriteAllText(Path.Combine(dead, "duckdb_temp_storage-0.tmp"), "left by a crash");
        var alive = Directory.CreateDirectory(Path.Combine(root, Environment.ProcessId + "-4567")).FullName;
        var foreign = Directory.CreateDirectory(Path.Combine(root, "not-ours")).FullName;

        using (var queries = new LakeQueries(new LakeLayout(Path.Combine(temp.Path, "lake")), 64, root))
        {
            Assert.False(Directory.Exists(dead));
            Assert.True(Directory.Exists(alive), "a running process's spill folder is left alone");
            Assert.True(Directory.Exists(foreign), "a folder not named by a process id is left alone");
        }

        Assert.Equal([alive, foreign], Directory.GetDirectories(root).Order(StringComparer.Ordinal));
    }

    private static async Task AssertSameAsync(LakeQueries queries, string when)
    {
        var summary = await queries.ExperimentStatsAsync("t", "exp", CancellationToken.None);
        var raw = await queries.RawExperimentStatsAsync("t", "exp", CancellationToken.None);
        Assert.True(raw.MultipleExposureUsers == summary.MultipleExposureUsers,
            $"{when}: multiple exposure {summary.MultipleExposureUsers} vs raw {raw.MultipleExposureUsers}");
        Assert.True(raw.Variants.SequenceEqual(summary.Variants),
            $"{when}:\n summary {string.Join("; ", summary.Variants)}\n raw     {string.Join("; ", raw.Variants)}");
    }

    public void Dispose() => temp.Dispose();
}
