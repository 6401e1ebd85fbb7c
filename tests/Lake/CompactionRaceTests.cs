using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PricingOptimizer.EventLog;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Lake;

/// <summary>
/// Readers while a compactor merges thousands of small files (issue: readers failed in 4–6 of 200 requests). Each round
/// lands another full copy of the same events as two-event files (a replay's duplicates: readers count each event_id
/// once), so every read has one exact answer however far a merge has got, and each round gives the compactor the
/// same work again.
/// </summary>
public sealed class CompactionRaceTests : IDisposable
{
    private string Tenant { get; set; } = "race";
    private const int Users = 1_500;
    private readonly TempDirectory temp = new();
    private readonly DateTimeOffset now = DateTimeOffset.UtcNow.AddHours(-1);

    public void Dispose() => temp.Dispose();

    private List<PricingEvent> Events { get; } = [];

    private async Task LandCopyAsync(LakeLayout lake, int copy, int perFile = 2)
    {
        if (Events.Count == 0)
        {
            Events.AddRange(TestEvents.Mixed(Users, now));
        }

        var records = Events.Select((e, i) => new LogRecord("copy" + copy, i, new TenantEvent(Tenant, now, e))).ToList();
        foreach (var day in records.GroupBy(r => DateOnly.FromDateTime(r.Item.Event.OccurredAt.UtcDateTime)))
        {
            foreach (var chunk in day.Chunk(perFile))
            {
                await ParquetEventWriter.WriteAsync(lake.FilePath(Tenant, day.Key, chunk[0].Source, chunk[0].Position), chunk, CancellationToken.None);
            }
        }
    }

    /// <summary>What every read must say: all events once, half the users in each variant, every third a buyer.</summary>
    private async Task AssertExactAsync(LakeQueries queries)
    {
        var (variants, multiple) = await queries.ExperimentStatsAsync(Tenant, "exp-1", CancellationToken.None);
        Assert.Equal(0, multiple);
        Assert.Equal((Users / 2, Users / 6), variants.Where(v => v.VariantId == "control").Select(v => (v.Users, v.Conversions)).Single());
        Assert.Equal((Users / 2, Users / 6), variants.Where(v => v.VariantId == "charm").Select(v => (v.Users, v.Conversions)).Single());
        var days = await queries.EventsByDayAsync(Tenant, DateOnly.MinValue, DateOnly.MaxValue, CancellationToken.None);
        Assert.Equal(Events.Count, days.Sum(d => d.Events));
    }

    [Fact]
    public async Task Readers_in_this_process_never_fail_while_po_compact_merges_under_them()
    {
        var lake = new LakeLayout(Path.Combine(temp.Path, "lake"));
        var reads = 0;
        using var warm = new LakeQueries(lake, spillRoot: Path.Combine(temp.Path, "spill"));
        for (var round = 0; round < 4; round++)
        {
            await LandCopyAsync(lake, round);
            var compact = PoProcess.RunAsync(temp.Path, null, "compact", "--lake", lake.Root, "--min-age-seconds", "0", "--min-files", "2");
            while (!compact.IsCompleted)
            {
                // A cold reader (a fresh process's first readout: every file listed and read) and a warm one that folds.
                using (var cold = new LakeQueries(lake, spillRoot: Path.Combine(temp.Path, "spill")))
                {
                    await AssertExactAsync(cold);
                }

                await AssertExactAsync(warm);
                reads += 2;
            }

            var result = await compact;
            Assert.True(result.ExitCode == 0, result.Stderr);
            if (round > 0)
            {
                Assert.Contains("duplicate event_ids dropped", result.Stdout, StringComparison.Ordinal);
            }
        }

        Assert.True(reads >= 8, $"only {reads} reads overlapped the compactions");
        // Once the readers are gone, the sources they held go too: one file per partition, and the leases are gone.
        var compactor = new LakeCompactor(lake, new CompactionOptions { MinFiles = 2, MinFileAgeSeconds = 0 }, TimeProvider.System,
            NullLogger<LakeCompactor>.Instance);
        await compactor.CompactAsync(cancellationToken: CancellationToken.None);
        Assert.All(Directory.GetDirectories(Path.Combine(lake.EventsRoot, "tenant_id=" + Tenant)), p => Assert.Single(Directory.GetFiles(p, "*.parquet")));
        Assert.True(!Directory.Exists(lake.ReadersFolder) || Directory.GetFiles(lake.ReadersFolder).Length == 0);
        await AssertExactAsync(warm);
    }

    [Fact]
    public async Task Po_readout_processes_never_fail_while_a_compactor_merges_under_them()
    {
        var lake = new LakeLayout(Path.Combine(temp.Path, "lake"));
        var compactor = new LakeCompactor(lake, new CompactionOptions { MinFiles = 2, MinFileAgeSeconds = 0 }, TimeProvider.System,
            NullLogger<LakeCompactor>.Instance,
            spillRoot: Path.Combine(temp.Path, "spill"));
        var runs = new List<PoProcess.Result>();
        for (var round = 0; round < 3; round++)
        {
            await LandCopyAsync(lake, round);
            // Readers start first, so each compaction runs while cold readouts list and read the small files.
            var readers = Enumerable.Range(0, 2)
                .Select(_ => PoProcess.RunAsync(temp.Path, null, "readout", "--lake", lake.Root, "--tenant", Tenant, "--experiment", "exp-1", "--json"))
                .ToList();
            await Task.Delay(TimeSpan.FromMilliseconds(300 * round));
            await compactor.CompactAsync(cancellationToken: CancellationToken.None);
            runs.AddRange(await Task.WhenAll(readers));
            await compactor.RemoveKeptSourcesAsync(TimeSpan.FromSeconds(30));
        }

        Assert.All(runs, run =>
        {
            Assert.True(run.ExitCode == 0, run.Stderr);
            using var json = JsonDocument.Parse(run.Stdout);
            var users = json.RootElement.GetProperty("variants").EnumerateArray().Select(v => v.GetProperty("users").GetInt64()).ToList();
            Assert.Equal([Users / 2, Users / 2], users);
        });
    }

    [Fact]
    public async Task The_apis_readout_and_usage_never_answer_500_while_its_compactor_merges()
    {
        using var api = new IngestApiFactory(new Dictionary<string, string?> { ["Compaction:Background"] = "false", ["Auth:AdminKey"] = "race-admin" });
        var (tenantId, _, client) = await api.CreateTenantAsync("race-admin", "Race", "pro");
        Tenant = tenantId;
        var lake = api.Services.GetRequiredService<LakeLayout>();
        var compactor = api.Services.GetRequiredService<LakeCompactor>();
        var answers = new List<HttpStatusCode>();
        for (var round = 0; round < 4; round++)
        {
            await LandCopyAsync(lake, round);
            var compaction = Task.Run(() => compactor.CompactAsync(cancellationToken: CancellationToken.None));
            do
            {
                var readout = await client.GetAsync("/v1/experiments/exp-1/readout");
                answers.Add(readout.StatusCode);
                Assert.True(readout.StatusCode == HttpStatusCode.OK, await readout.Content.ReadAsStringAsync());
                using var json = JsonDocument.Parse(await readout.Content.ReadAsStringAsync());
                Assert.Equal(Users, json.RootElement.GetProperty("variants").EnumerateArray().Sum(v => v.GetProperty("users").GetInt64()));
                var usage = await client.GetAsync("/v1/usage");
                answers.Add(usage.StatusCode);
                Assert.True(usage.StatusCode == HttpStatusCode.OK, await usage.Content.ReadAsStringAsync());
            }
            while (!compaction.IsCompleted);
            await compaction;
        }

        Assert.True(answers.Count >= 8, $"only {answers.Count} requests overlapped the compactions");
    }
}
