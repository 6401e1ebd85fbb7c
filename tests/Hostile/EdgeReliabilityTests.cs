using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PricingOptimizer.EventLog;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Hostile;

/// <summary>A damaged lake file, and the small things a user trips on: each says what to do, and nothing accepted is lost.</summary>
public sealed class EdgeReliabilityTests : IDisposable
{
    private const string AdminKey = "edge-admin";
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private static async Task WriteAsync(LakeLayout lake, string tenant, IReadOnlyList<PricingEvent> events, string source)
    {
        var records = events.Select((e, i) => new LogRecord(source, i, new TenantEvent(tenant, DateTimeOffset.UtcNow, e))).ToList();
        foreach (var day in records.GroupBy(r => DateOnly.FromDateTime(r.Item.Event.OccurredAt.UtcDateTime)))
        {
            foreach (var chunk in day.Chunk(50))
            {
                await ParquetEventWriter.WriteAsync(lake.FilePath(tenant, day.Key, chunk[0].Source, chunk[0].Position), chunk, CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// Cuts a Parquet file short, as a full disk or a bad copy does: the first file of the tenant's fullest partition, so
    /// that compaction has others to merge it with whatever the time of day (early in a UTC day some events fall on the day before).
    /// </summary>
    private static string Damage(LakeLayout lake, string tenant)
    {
        var victim = Directory.GetDirectories(Path.Combine(lake.EventsRoot, "tenant_id=" + tenant))
            .Select(folder => Directory.GetFiles(folder, "*.parquet").Order(StringComparer.Ordinal).ToList())
            .OrderByDescending(files => files.Count).ThenBy(files => files[0], StringComparer.Ordinal).First()[0];
        var bytes = File.ReadAllBytes(victim);
        File.WriteAllBytes(victim, bytes[..(bytes.Length / 2)]);
        return victim;
    }

    [Fact]
    public async Task A_damaged_file_is_quarantined_the_tenant_keeps_ingesting_and_other_tenants_compact()
    {
        using var api = new IngestApiFactory(new Dictionary<string, string?> { ["Auth:AdminKey"] = AdminKey, ["Compaction:Background"] = "false" });
        var (tenantId, _, client) = await api.CreateTenantAsync(AdminKey, "Damaged", "pro");
        var (otherId, _, _) = await api.CreateTenantAsync(AdminKey, "Healthy", "pro");
        await IngestApiFactory.CreateTestExperimentAsync(client, start: true);
        var lake = api.Services.GetRequiredService<LakeLayout>();
        var now = DateTimeOffset.UtcNow;
        var events = TestEvents.Mixed(600, now);
        await WriteAsync(lake, tenantId, events, "a");
        // The healthy tenant's partitions sort after the damaged one's: its compaction must not wait on it.
        await WriteAsync(lake, otherId, TestEvents.Mixed(600, now), "b");
        var victim = Damage(lake, tenantId);

        var readout = await client.GetAsync("/v1/experiments/exp-1/readout");
        var text = await readout.Content.ReadAsStringAsync();
        Assert.True(readout.StatusCode == HttpStatusCode.OK, text);
        using (var json = JsonDocument.Parse(text))
        {
            var users = json.RootElement.GetProperty("variants").EnumerateArray().Sum(v => v.GetProperty("users").GetInt64());
            Assert.InRange(users, 1, 599); // the damaged file's users are missing, the rest count
            Assert.Contains(json.RootElement.GetProperty("notes").EnumerateArray(), n => n.GetString()!.Contains("quarantine", StringComparison.Ordinal));
        }

        Assert.False(File.Exists(victim));
        var moved = Assert.Single(LakeQuarantine.List(lake, tenantId));
        Assert.Equal(victim, moved.OriginalPath);
        Assert.True(File.Exists(moved.QuarantinePath));
        Assert.False(string.IsNullOrWhiteSpace(moved.Reason));

        var recommendation = await client.GetAsync("/v1/experiments/exp-1/recommendation?goal=revenue");
        var recommendationText = await recommendation.Content.ReadAsStringAsync();
        Assert.True(recommendation.StatusCode == HttpStatusCode.OK, recommendationText);
        Assert.Contains("quarantine", recommendationText, StringComparison.Ordinal);

        // Ingest and assignment answer as they should, with or without the usage figure behind the warning header.
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json([TestEvents.Assign(9_999, now)]))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/assign",
            IngestApiFactory.Json("""{"experiment_id":"exp-1","user_id":"new-user"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/usage")).StatusCode);

        // A second damaged file found by compaction: quarantined, and every partition of both tenants is compacted.
        var second = Damage(lake, tenantId);
        var compactor = new LakeCompactor(lake, new CompactionOptions { MinFiles = 2, MinFileAgeSeconds = 0 }, TimeProvider.System,
            NullLogger<LakeCompactor>.Instance);
        var results = await compactor.CompactAsync(cancellationToken: CancellationToken.None);
        Assert.All(results, r => Assert.Null(r.Error));
        Assert.Contains(results.SelectMany(r => r.Quarantined), q => q.OriginalPath == second);
        Assert.All(Directory.GetDirectories(Path.Combine(lake.EventsRoot, "tenant_id=" + otherId)), p => Assert.Single(Directory.GetFiles(p, "*.parquet")));
        Assert.Equal(2, LakeQuarantine.List(lake, tenantId).Count);
        Assert.Empty(LakeQuarantine.List(lake, otherId));
    }

    [Fact]
    public async Task Po_compact_repair_says_which_files_it_set_aside_and_why()
    {
        var lake = new LakeLayout(Path.Combine(temp.Path, "lake"));
        await WriteAsync(lake, "shop", TestEvents.Mixed(300, DateTimeOffset.UtcNow), "a");
        var victim = Damage(lake, "shop");
        var result = await PoProcess.RunAsync(temp.Path, null, "compact", "--lake", lake.Root, "--repair", "--min-age-seconds", "0");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("quarantined " + Path.GetRelativePath(lake.EventsRoot, victim), result.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 could not be read and were moved to quarantine", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_interrupted_merge_whose_journal_was_lost_leaves_no_duplicate_rows_after_the_next_pass()
    {
        var lake = new LakeLayout(Path.Combine(temp.Path, "lake"));
        var events = TestEvents.Mixed(600, DateTimeOffset.UtcNow);
        await WriteAsync(lake, "shop", events, "a");
        var crashing = new LakeCompactor(lake, new CompactionOptions { MinFiles = 2, MinFileAgeSeconds = 0 }, TimeProvider.System,
            NullLogger<LakeCompactor>.Instance)
        {
            AfterStep = step => { if (step == CompactionStep.Renamed) { throw new InvalidOperationException("killed"); } },
        };
        await Assert.ThrowsAsync<InvalidOperationException>(() => crashing.CompactAsync(cancellationToken: CancellationToken.None));
        foreach (var journal in Directory.EnumerateFiles(lake.EventsRoot, CompactionJournal.FileName, SearchOption.AllDirectories))
        {
            File.Delete(journal); // the merged files and their sources side by side, and nothing says which is which
        }

        var results = await new LakeCompactor(lake, new CompactionOptions { MinFiles = 2, MinFileAgeSeconds = 0 }, TimeProvider.System,
            NullLogger<LakeCompactor>.Instance).CompactAsync(cancellationToken: CancellationToken.None);
        Assert.True(results.Sum(r => r.DuplicatesDropped) > 0);
        using var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*), count(DISTINCT event_id) FROM read_parquet('{lake.EventsRoot}/**/*.parquet')";
        using var reader = command.ExecuteReader();
        reader.Read();
        Assert.Equal((events.Count, events.Count), (reader.GetInt64(0), reader.GetInt64(1)));
    }

    [Fact]
    public async Task A_lander_temp_file_left_by_a_kill_is_removed_once_it_is_old_and_po_compact_says_so()
    {
        var lake = new LakeLayout(Path.Combine(temp.Path, "lake"));
        await WriteAsync(lake, "shop", TestEvents.Mixed(300, DateTimeOffset.UtcNow), "a");
        var folder = Directory.GetDirectories(Path.Combine(lake.EventsRoot, "tenant_id=shop")).First();
        var young = Path.Combine(folder, ".embedded-00000000000000000001.parquet.young.tmp");
        var old = Path.Combine(folder, ".embedded-00000000000000000002.parquet.old.tmp");
        File.WriteAllText(young, "half a file");
        File.WriteAllText(old, "half a file");
        File.SetLastWriteTimeUtc(old, DateTime.UtcNow - LakeLayout.StaleTemporaryAge - TimeSpan.FromMinutes(1));

        var result = await PoProcess.RunAsync(temp.Path, null, "compact", "--lake", lake.Root);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("removed 1 temporary files left by writers that were stopped", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("younger than 60 s", result.Stdout, StringComparison.Ordinal); // the files were just written
        Assert.False(File.Exists(old));
        Assert.True(File.Exists(young)); // a lander may be writing it now
    }

    [Fact]
    public async Task Small_things_say_what_to_do()
    {
        foreach (var hours in new[] { "-1", "0", "9000" })
        {
            var token = await PoProcess.RunAsync(temp.Path, null, "token", "--tenant", "t", "--hours", hours);
            Assert.NotEqual(0, token.ExitCode);
            Assert.Contains("--hours", Assert.Single(token.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        }

        var apiHelp = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "PricingOptimizer.IngestApi.dll"), "--help" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var apiHelpText = apiHelp.StandardOutput.ReadToEndAsync();
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await apiHelp.WaitForExitAsync(wait.Token); // a server would not exit: the wait would be cancelled
        }

        Assert.Equal(0, apiHelp.ExitCode);
        Assert.Contains("Usage:", await apiHelpText, StringComparison.Ordinal);

        var help = await PoProcess.RunAsync(temp.Path, null, "help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("readout", help.Stdout, StringComparison.Ordinal);
        var commandHelp = await PoProcess.RunAsync(temp.Path, null, "help", "compact");
        Assert.Equal(0, commandHelp.ExitCode);
        Assert.Contains("--repair", commandHelp.Stdout, StringComparison.Ordinal);

        using var api = new IngestApiFactory(new Dictionary<string, string?> { ["Auth:AdminKey"] = AdminKey });
        var (_, apiKey, client) = await api.CreateTenantAsync(AdminKey, "Small", "free");
        using var withKey = api.CreateClient();
        withKey.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        var wrong = await withKey.GetAsync("/v1/experiments");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("POST /v1/auth/token", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await IngestApiFactory.CreateTestExperimentAsync(client, start: true);
        var again = await client.PostAsync("/v1/experiments/exp-1/start", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("cannot start an active experiment", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var recommendation = await client.GetAsync("/v1/experiments/exp-1/recommendation?goal=revenue");
        var advice = await recommendation.Content.ReadAsStringAsync();
        Assert.True(recommendation.StatusCode == HttpStatusCode.OK, advice);
        Assert.Contains("No tested price has 100 users yet", advice, StringComparison.Ordinal);

        HttpResponseMessage limited;
        var sent = 0;
        do
        {
            limited = await client.GetAsync("/v1/experiments");
        }
        while (limited.StatusCode != HttpStatusCode.TooManyRequests && ++sent < 1_000);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        using var problem = JsonDocument.Parse(await limited.Content.ReadAsStringAsync());
        Assert.StartsWith("https://", problem.RootElement.GetProperty("type").GetString(), StringComparison.Ordinal);

    }
}
