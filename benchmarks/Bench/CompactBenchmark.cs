using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using PricingOptimizer.Lake;
using PricingOptimizer.Pipelines.Cli;

namespace PricingOptimizer.Benchmarks.Bench;

/// <summary>
/// <c>po bench compact</c>: the same N events as one file per partition and as a trickle's many small files; reads
/// (the readout's raw aggregate, the export's event read) on each, then on the small files after <c>po compact</c>'s pass.
/// </summary>
public static class CompactBenchmark
{
    public static Command Create()
    {
        var events = new Option<int>("--events") { Description = "Events in the generated lake", DefaultValueFactory = _ => 1_000_000 };
        var files = new Option<int>("--files") { Description = "Small files the trickle leaves (spread evenly over the daily partitions)",
            DefaultValueFactory = _ => 4_000 };
        var runs = new Option<int>("--runs") { Description = "Timed runs of each read (median reported)", DefaultValueFactory = _ => 3 };
        var command = new Command("compact",
            "Reads over a trickle's small files, before and after compaction, against one file per partition.") { events, files, runs };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(events), parse.GetValue(files), parse.GetValue(runs), ct));
        return command;
    }

    private static async Task<int> RunAsync(int count, int fileCount, int runs, CancellationToken cancellationToken)
    {
        if (count < 10_000 || fileCount < 1 || runs < 1)
        {
            throw new CliException("--events must be at least 10000, --files and --runs positive");
        }

        var data = Directory.CreateTempSubdirectory("po-bench-compact-");
        try
        {
            Console.WriteLine($"machine: {BenchData.Machine()}");
            var whole = new LakeLayout(Path.Combine(data.FullName, "whole"));
            var trickle = new LakeLayout(Path.Combine(data.FullName, "trickle"));
            ReadoutBenchmark.Generate(whole, count);
            ReadoutBenchmark.Generate(trickle, count, slices: Math.Max(1, fileCount / Files(whole)));
            Console.WriteLine($"lakes: {count:N0} events as {Files(whole)} files (one per partition) and as {Files(trickle)} small files");

            var reference = await MeasureAsync(whole, runs, cancellationToken);
            Report("one file per partition", reference, reference);
            var before = await MeasureAsync(trickle, runs, cancellationToken);
            Report($"{Files(trickle):N0} small files", before, reference);

            var compactor = new LakeCompactor(trickle, new CompactionOptions { MinFileAgeSeconds = 0 }, TimeProvider.System, NullLogger<LakeCompactor>.Instance,
                spillRoot: Path.Combine(data.FullName, "spill"));
            var watch = Stopwatch.StartNew();
            var passes = await compactor.CompactAsync(cancellationToken: cancellationToken);
            watch.Stop();
            Console.WriteLine($"compaction: {passes.Sum(p => p.FilesBefore):N0} files → {passes.Sum(p => p.FilesAfter):N0} in " +
                $"{watch.Elapsed.TotalSeconds:F1} s");
            var after = await MeasureAsync(trickle, runs, cancellationToken);
            Report("after compaction", after, reference);
            Console.WriteLine("target: reads after compaction within 1.5× of one file per partition");
            return 0;
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    private static int Files(LakeLayout lake) => Directory.EnumerateFiles(lake.EventsRoot, "*.parquet", SearchOption.AllDirectories).Count();

    private sealed record Reads(TimeSpan Readout, TimeSpan Export, long Events, long Users);

    private static async Task<Reads> MeasureAsync(LakeLayout lake, int runs, CancellationToken cancellationToken)
    {
        using var queries = new LakeQueries(lake);
        long users = 0;
        long events = 0;
        var readout = await ReadoutBenchmark.TimeAsync(runs, async () =>
            users = (await queries.RawExperimentStatsAsync("bench", "exp-1", cancellationToken)).Variants.Sum(v => v.Users));
        var export = await ReadoutBenchmark.TimeAsync(runs, async () => events = (await queries.ReadEventsAsync("bench", null, cancellationToken)).Count);
        return new Reads(readout, export, events, users);
    }

    private static void Report(string name, Reads reads, Reads reference) =>
        Console.WriteLine($"{name,-24} readout (raw aggregate) {reads.Readout.TotalMilliseconds,7:F0} ms ({reads.Readout / reference.Readout:F2}×), " +
                          $"export read {reads.Export.TotalMilliseconds,7:F0} ms ({reads.Export / reference.Export:F2}×); {reads.Users:N0} users, " +
                              $"{reads.Events:N0} events");
}
