using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Lake;

/// <summary>What a crash leaves in the lake is cleaned at start; export → import keeps every field, properties included.</summary>
public sealed class LeftoversAndRoundTripTests : IDisposable
{
    private readonly TempDirectory temp = new();

    [Fact]
    public void Stale_temporary_files_are_removed_and_fresh_ones_and_parquet_files_stay()
    {
        var lake = new LakeLayout(Path.Combine(temp.Path, "lake"));
        var folder = Directory.CreateDirectory(lake.PartitionFolder("t1", new DateOnly(2026, 11, 1))).FullName;
        var now = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
        string Touch(string name, TimeSpan age)
        {
            var path = Path.Combine(folder, name);
            File.WriteAllText(path, "x");
            File.SetLastWriteTimeUtc(path, (now - age).UtcDateTime);
            return path;
        }

        var crashed = Touch(".part-0.parquet.0123abcd.tmp", TimeSpan.FromHours(3));
        var writing = Touch(".part-1.parquet.4567ef01.tmp", TimeSpan.FromSeconds(20));
        var landed = Touch("part-0.parquet", TimeSpan.FromHours(3));

        Assert.Equal(1, lake.RemoveStaleTemporaryFiles(now));
        Assert.False(File.Exists(crashed));
        Assert.True(File.Exists(writing), "another lander may be writing it right now");
        Assert.True(File.Exists(landed));
    }

    [Fact]
    public async Task Export_then_import_keeps_properties_even_with_commas_quotes_newlines_and_unicode()
    {
        var random = new Random(11);
        var now = DateTimeOffset.UtcNow;
        string[] awkward = ["plain", "a,b", "say \"hi\"", "line\nbreak", "emoji 😀", "{\"json\":1}", "", "tab\tx", "é ü ß"];
        var events = Enumerable.Range(0, 200).Select(i => new PricingEvent($"e-{i}", i % 3 == 0 ? EventType.Convert : EventType.Assign, "exp-1",
            i % 2 == 0 ? "control" : "b", $"u-{i}", 9.99m, i % 3 == 0 ? 12.5m : null, "USD", EventValidator.TruncateToMicroseconds(now.AddMinutes(-i)),
            i % 4 == 0 ? null : Enumerable.Range(0, random.Next(1, 5)).ToDictionary(k => $"k{k}", _ => awkward[random.Next(awkward.Length)]))).ToList();
        var csv = Path.Combine(temp.Path, "events.csv");
        await PricingOptimizer.Pipelines.Cli.ImportExportCommands.WriteCsvAsync(csv, events, CancellationToken.None);

        var lake = new LakeLayout(Path.Combine(temp.Path, "lake"));
        var result = await new CsvImporter(lake, new EventValidator(TimeProvider.System), TimeProvider.System).ImportAsync("t1", csv, CancellationToken.None);
        Assert.Empty(result.Errors);
        using var queries = new LakeQueries(lake);
        var back = (await queries.ReadEventsAsync("t1", null, CancellationToken.None)).Select(s => s.Event).OrderBy(e => int.Parse(e.EventId[2..],
            System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(events.Count, back.Count);
        for (var i = 0; i < events.Count; i++)
        {
            Assert.Equal(events[i] with { Properties = null }, back[i] with { Properties = null });
            Assert.Equal(events[i].Properties?.OrderBy(kv => kv.Key).ToList() ?? [], back[i].Properties?.OrderBy(kv => kv.Key).ToList() ?? []);
        }
    }

    public void Dispose() => temp.Dispose();
}
