using Microsoft.Extensions.Time.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using PricingOptimizer.EventLog;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Lake;

/// <summary>
/// The compactor (README "Compaction"): small files merged into few, every event readable and counted once
/// whatever crashes where, readers' summaries warm across it, leftovers removed.
/// </summary>
public sealed class CompactionTests : IDisposable
{
    private const string Tenant = "shop";
    private const int Users = 3000;
    private readonly TempDirectory temp = new();
    private readonly DateTimeOffset now = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    private LakeLayout Lake => new(Path.Combine(temp.Path, "lake"));

    public void Dispose() => temp.Dispose();

    /// <summary>
    /// 3,000 users (even ones see the control, odd ones the charm price), every third buys a minute after their assign:
    /// 4,000 events over three days, landed as a lander would, ten events to a file, plus a replay that left a second
    /// copy of 50 events in another file.
    /// </summary>
    private async Task<List<PricingEvent>> LandTrickleAsync(int perFile = 10, int offset = 0, string experiment = "exp-1")
    {
        var events = TestEvents.Mixed(Users, now, experiment).Select(e => e with { EventId = experiment + "-" + e.EventId }).ToList();
        var records = events.Select((e, i) => new LogRecord("embedded", offset + i, new TenantEvent(Tenant, now, e))).ToList();
        foreach (var day in records.GroupBy(r => DateOnly.FromDateTime(r.Item.Event.OccurredAt.UtcDateTime)))
        {
            foreach (var chunk in day.Chunk(perFile))
            {
                await ParquetEventWriter.WriteAsync(Lake.FilePath(Tenant, day.Key, chunk[0].Source, chunk[0].Position), chunk, CancellationToken.None);
            }
        }

        var replayed = records.Skip(100).Take(50).ToList();
        await ParquetEventWriter.WriteAsync(Lake.FilePath(Tenant, DateOnly.FromDateTime(replayed[0].Item.Event.OccurredAt.UtcDateTime), "embedded-replay",
            replayed[0].Position), replayed, CancellationToken.None);
        return events;
    }

    private LakeCompactor Compactor(Action<CompactionStep>? afterStep = null, int minFiles = 2, TimeProvider? clock = null) =>
        new(Lake, new CompactionOptions { MinFiles = minFiles, MinFileAgeSeconds = 60 }, clock ?? new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(5)),
            NullLogger<LakeCompactor>.Instance, spillRoot: Path.Combine(temp.Path, "spill"))
        {
            AfterStep = afterStep,
        };

    private List<string> DataFiles() =>
        [.. Directory.EnumerateFiles(Lake.EventsRoot, "*.parquet", SearchOption.AllDirectories)];

    private List<string> Leftovers() =>
        [.. Directory.EnumerateFiles(Lake.EventsRoot, "*.tmp", SearchOption.AllDirectories)];

    /// <summary>What a user checks after any compaction: every event once, and the readout's counts (known from how the events were made).</summary>
    private static async Task AssertEveryEventCountedOnceAsync(LakeQueries queries, List<PricingEvent> events)
    {
        var read = await queries.ReadEventsAsync(Tenant, null, CancellationToken.None);
        Assert.Equal(events.Count, read.Count);
        Assert.Equal(events.Select(e => e.EventId).Order(), read.Select(e => e.Event.EventId).Order());

        foreach (var (variants, _) in new[]
                 {
                     await queries.RawExperimentStatsAsync(Tenant, "exp-1", CancellationToken.None),
                     await queries.ExperimentStatsAsync(Tenant, "exp-1", CancellationToken.None),
                 })
        {
            var control = variants.Single(v => v.VariantId == "control");
            var charm = variants.Single(v => v.VariantId == "charm");
            Assert.Equal((Users / 2, Users / 6), (control.Users, control.Conversions)); // even users; every third of them (i ≡ 4 mod 6) buys
            Assert.Equal((Users / 2, Users / 6), (charm.Users, charm.Conversions));
        }
    }

    [Fact]
    public async Task Compaction_merges_small_files_into_one_per_partition_and_every_event_still_counts_once()
    {
        var events = await LandTrickleAsync();
        var before = DataFiles().Count;
        Assert.True(before > 400, $"expected a trickle of small files, got {before}");

        var results = await Compactor().CompactAsync(cancellationToken: CancellationToken.None);

        var partitions = Directory.GetDirectories(Path.Combine(Lake.EventsRoot, "tenant_id=" + Tenant));
        Assert.Equal(partitions.Length, results.Count);
        Assert.All(partitions, p => Assert.Single(Directory.GetFiles(p, "*.parquet")));
        Assert.Equal(before, results.Sum(r => r.FilesBefore));
        Assert.Equal(events.Count, results.Sum(r => r.Rows)); // the replay's second copy of 50 events is dropped by the merge
        Assert.Equal(50, results.Sum(r => r.DuplicatesDropped));
        Assert.Empty(Leftovers());
        using var queries = new LakeQueries(Lake);
        await AssertEveryEventCountedOnceAsync(queries, events);
    }

    [Theory]
    [InlineData(CompactionStep.Written)]
    [InlineData(CompactionStep.Journaled)]
    [InlineData(CompactionStep.Renamed)]
    [InlineData(CompactionStep.SourceRemoved)]
    public async Task A_crash_after_any_step_leaves_every_event_counted_once_and_the_next_pass_finishes_the_job(CompactionStep crashAt)
    {
        var events = await LandTrickleAsync();
        var crashing = Compactor(step =>
        {
            if (step == crashAt)
            {
                throw new SimulatedKill(step);
            }
        });
        await Assert.ThrowsAsync<SimulatedKill>(() => crashing.CompactAsync(cancellationToken: CancellationToken.None));

        using (var queries = new LakeQueries(Lake))
        {
            await AssertEveryEventCountedOnceAsync(queries, events);
        }

        await Compactor().CompactAsync(cancellationToken: CancellationToken.None);

        Assert.Empty(Leftovers());
        Assert.All(Directory.GetDirectories(Path.Combine(Lake.EventsRoot, "tenant_id=" + Tenant)), p => Assert.Single(Directory.GetFiles(p, "*.parquet")));
        using (var queries = new LakeQueries(Lake))
        {
            await AssertEveryEventCountedOnceAsync(queries, events);
        }
    }

    [Fact]
    public async Task A_readers_summary_stays_warm_across_compactions_and_still_folds_what_is_new()
    {
        var events = await LandTrickleAsync();
        using var queries = new LakeQueries(Lake);
        await AssertEveryEventCountedOnceAsync(queries, events);
        Assert.Equal(1, queries.SummaryRebuilds);

        // Interrupted after the merged files went in (sources still there), then finished, then new files and a second
        // compaction that merges the first merged files with them: the summary is never rebuilt.
        var crashing = Compactor(step =>
        {
            if (step == CompactionStep.Renamed)
            {
                throw new SimulatedKill(step);
            }
        });
        await Assert.ThrowsAsync<SimulatedKill>(() => crashing.CompactAsync(cancellationToken: CancellationToken.None));
        await AssertEveryEventCountedOnceAsync(queries, events);
        await Compactor().CompactAsync(cancellationToken: CancellationToken.None);
        await AssertEveryEventCountedOnceAsync(queries, events);
        Assert.Equal(1, queries.SummaryRebuilds);
        Assert.Equal(0, queries.SummaryFoldedFiles);

        var more = await LandTrickleAsync(offset: 100_000, experiment: "exp-2");
        await Compactor().CompactAsync(cancellationToken: CancellationToken.None);
        var exp2 = await queries.ExperimentStatsAsync(Tenant, "exp-2", CancellationToken.None);
        Assert.Equal(Users, exp2.Variants.Sum(v => v.Users));
        await AssertEveryEventCountedOnceAsync(queries, [.. events, .. more]);
        Assert.Equal(2, queries.SummaryRebuilds); // exp-2's first readout, nothing else

        // A file lost for another reason (not merged) is not papered over: the summary rebuilds.
        File.Delete(DataFiles()[0]);
        await queries.ExperimentStatsAsync(Tenant, "exp-1", CancellationToken.None);
        Assert.Equal(3, queries.SummaryRebuilds);
    }

    [Fact]
    public async Task A_source_a_replay_rewrote_during_the_merge_is_kept_and_its_new_events_are_not_lost()
    {
        var events = await LandTrickleAsync();
        var folder = Path.GetDirectoryName(DataFiles().Order(StringComparer.Ordinal).First())!;
        var rewritten = Directory.GetFiles(folder, "*.parquet").Order(StringComparer.Ordinal).First();
        var extra = new PricingEvent("late-1", EventType.Assign, "exp-1", "control", "user-late", 9.99m, null, "USD", now.AddHours(-1).AddTicks(-1));
        var replayed = false;
        var compactor = Compactor(step =>
        {
            if (step == CompactionStep.Journaled && !replayed)
            {
                // A lander's replay rewrites the file with the same first position and one more event, mid-merge.
                replayed = true;
                ParquetEventWriter.WriteAsync(Path.Combine(folder, "tmp-replay.parquet.x"), [new LogRecord("embedded", 0, new TenantEvent(Tenant, now, extra))],
                    CancellationToken.None).GetAwaiter().GetResult();
                File.Move(Path.Combine(folder, "tmp-replay.parquet.x"), rewritten, overwrite: true);
            }
        });

        await compactor.CompactAsync(cancellationToken: CancellationToken.None);

        Assert.True(File.Exists(rewritten));
        using var queries = new LakeQueries(Lake);
        var read = await queries.ReadEventsAsync(Tenant, null, CancellationToken.None);
        Assert.Contains(read, e => e.Event.EventId == "late-1");
        Assert.Equal(events.Count + 1, read.Count);
    }

    [Fact]
    public async Task The_journal_forgets_merges_whose_sources_are_gone_once_they_are_a_day_old_and_keeps_those_a_reader_still_holds()
    {
        var events = await LandTrickleAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(5));
        var compactor = Compactor(clock: clock);
        int Journaled() => Directory.EnumerateDirectories(Lake.EventsRoot, "event_date=*",
            SearchOption.AllDirectories).Sum(f => CompactionJournal.Read(f).Count);

        await compactor.CompactAsync(cancellationToken: CancellationToken.None);
        var merges = Journaled();
        Assert.True(merges >= 3, $"three days of trickle make at least three merges, journaled {merges}");

        // An hour later the entries stay: a reader's summary from before the merge still maps its files through them.
        clock.Advance(TimeSpan.FromHours(1));
        await compactor.CompactAsync(cancellationToken: CancellationToken.None);
        Assert.Equal(merges, Journaled());

        // A day later, with every source gone, no reader needs them.
        clock.Advance(TimeSpan.FromHours(24));
        await compactor.CompactAsync(cancellationToken: CancellationToken.None);
        Assert.Equal(0, Journaled());
        using (var queries = new LakeQueries(Lake))
        {
            await AssertEveryEventCountedOnceAsync(queries, events);
        }

        // Merges whose sources a reader still holds keep their entries however old, until the sources are removed.
        var more = await LandTrickleAsync(offset: 100_000, experiment: "exp-2");
        using (ReadLease.Take(Lake))
        {
            await compactor.CompactAsync(cancellationToken: CancellationToken.None);
            var held = Journaled();
            Assert.True(held >= 3, $"the second trickle makes merges too, journaled {held}");
            Assert.True(compactor.KeptSources > 0);

            clock.Advance(TimeSpan.FromHours(48));
            await compactor.CompactAsync(cancellationToken: CancellationToken.None);
            Assert.Equal(held, Journaled());
        }

        Assert.Equal(0, await compactor.RemoveKeptSourcesAsync(TimeSpan.Zero));
        await compactor.CompactAsync(cancellationToken: CancellationToken.None);
        Assert.Equal(0, Journaled());
        using var after = new LakeQueries(Lake);
        var read = await after.ReadEventsAsync(Tenant, null, CancellationToken.None);
        Assert.Equal(events.Concat(more).Select(e => e.EventId).Order(), read.Select(e => e.Event.EventId).Order());
    }

    [Fact]
    public async Task Young_files_and_partitions_below_the_threshold_are_left_alone()
    {
        await LandTrickleAsync(perFile: 400);
        var before = DataFiles().Order().ToList();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);

        await Compactor(clock: clock).CompactAsync(cancellationToken: CancellationToken.None);
        Assert.Equal(before, DataFiles().Order().ToList());

        clock.Advance(TimeSpan.FromMinutes(2));
        await Compactor(clock: clock, minFiles: 1000).CompactAsync(cancellationToken: CancellationToken.None);
        Assert.Equal(before, DataFiles().Order().ToList());

        await Compactor(clock: clock).CompactAsync(cancellationToken: CancellationToken.None);
        Assert.NotEqual(before.Count, DataFiles().Count);
    }

    [Fact]
    public async Task Two_compactors_never_merge_one_partition_at_the_same_time()
    {
        await LandTrickleAsync();
        var folder = Directory.GetDirectories(Path.Combine(Lake.EventsRoot, "tenant_id=" + Tenant)).Order(StringComparer.Ordinal).First();
        using var inside = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        var first = Task.Run(() => Compactor(step =>
        {
            if (step == CompactionStep.Written)
            {
                inside.Release();
                release.Wait();
            }
        }).CompactPartitionAsync(folder));
        await inside.WaitAsync();

        var second = await Compactor().CompactPartitionAsync(folder);
        release.Release(1000);
        var firstResult = await first;

        Assert.Null(second);
        Assert.NotNull(firstResult);
        Assert.Single(Directory.GetFiles(folder, "*.parquet"));
    }

    [Fact]
    public async Task Po_compact_merges_the_lake_and_says_what_it_did_and_a_missing_lake_is_one_line_and_a_failure()
    {
        var events = await LandTrickleAsync();
        var before = DataFiles().Count;

        var result = await PoProcess.RunAsync(temp.Path, null, "compact", "--lake", Lake.Root, "--min-age-seconds", "0");

        Assert.True(result.ExitCode == 0, result.Stderr);
        var partitions = Directory.GetDirectories(Path.Combine(Lake.EventsRoot, "tenant_id=" + Tenant)).Length;
        Assert.Contains($"compacted {partitions} of {partitions} partitions: {before:N0} files → {partitions}", result.Stdout, StringComparison.Ordinal);
        using (var queries = new LakeQueries(Lake))
        {
            await AssertEveryEventCountedOnceAsync(queries, events);
        }

        var missing = await PoProcess.RunAsync(temp.Path, null, "compact", "--lake", Path.Combine(temp.Path, "nowhere"));
        Assert.NotEqual(0, missing.ExitCode);
        var line = Assert.Single(missing.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("po: --lake", line, StringComparison.Ordinal);

        var badSetting = await PoProcess.RunAsync(temp.Path, null, "compact", "--lake", Lake.Root, "--min-files", "1");
        Assert.NotEqual(0, badSetting.ExitCode);
        Assert.Contains("MinFiles", Assert.Single(badSetting.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }
}

/// <summary>What a kill does to a compaction: it stops at that point (not a disk fault, which stops only one partition).</summary>
internal sealed class SimulatedKill(CompactionStep step) : Exception("killed at " + step);
