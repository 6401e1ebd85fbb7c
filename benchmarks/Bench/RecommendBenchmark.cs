using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Hosting;
using PricingOptimizer.Lake;
using PricingOptimizer.Pipelines.Cli;
using PricingOptimizer.Pricing;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Benchmarks.Bench;

/// <summary>
/// <c>po bench recommend</c>: the same generated lake as <c>bench readout</c>; the cold readout and the cold
/// recommendation each in a fresh DuckDB (as a new process would), then the warm recommendation, with the process's
/// peak working set.
/// </summary>
public static class RecommendBenchmark
{
    public static Command Create()
    {
        var events = new Option<int>("--events") { Description = "Events in the generated lake", DefaultValueFactory = _ => 10_000_000 };
        var runs = new Option<int>("--runs") { Description = "Timed warm runs (median reported)", DefaultValueFactory = _ => 5 };
        var command = new Command("recommend", "Warm and cold recommendation over a generated lake, against the cold readout.") { events, runs };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(events), parse.GetValue(runs), ct));
        return command;
    }

    private static async Task<int> RunAsync(int count, int runs, CancellationToken cancellationToken)
    {
        if (count < 1000 || runs < 1)
        {
            throw new CliException("--events must be at least 1000 and --runs positive");
        }

        var data = Directory.CreateTempSubdirectory("po-bench-recommend-");
        try
        {
            Console.WriteLine($"machine: {BenchData.Machine()}");
            var layout = new LakeLayout(Path.Combine(data.FullName, "lake"));
            ReadoutBenchmark.Generate(layout, count);
            Console.WriteLine($"lake: {count:N0} events");
            // The lake's generation is not the recommendation's memory: reset the kernel's peak-RSS mark (Linux) after it.
            var resetPeak = BenchData.TryResetPeak();
            var store = new SqliteControlPlaneStore("Data Source=" + Path.Combine(data.FullName, "controlplane.db"));
            var models = new DemandModelFolder(new StorageOptions { DataDirectory = data.FullName }.ModelsRoot);
            var request = new RecommendationRequest(Goal.Revenue, ControlVariantId: "v0");

            TimeSpan coldReadout;
            using (var lake = new LakeQueries(layout))
            {
                var watch = Stopwatch.StartNew();
                await new ReadoutService(lake, store).GetAsync("bench", "exp-1", "v0", cancellationToken);
                coldReadout = watch.Elapsed;
            }

            using var queries = new LakeQueries(layout);
            var pricing = new PricingService(queries, store, models, Options.Create(new RecommendationOptions()),
                Options.Create(new Statistics.StatisticsOptions()), new CharmPricing(new CharmOptions()), TimeProvider.System);
            var cold = Stopwatch.StartNew();
            var recommendation = await pricing.RecommendAsync("bench", "exp-1", request, cancellationToken);
            cold.Stop();
            var warm = await ReadoutBenchmark.TimeAsync(runs,
                async () => recommendation = await pricing.RecommendAsync("bench", "exp-1", request, cancellationToken));
            var peak = (resetPeak ? BenchData.PeakResidentSinceReset() : Process.GetCurrentProcess().PeakWorkingSet64) / 1048576.0;
            Console.WriteLine($"recommendation, warm median of {runs}: {warm.TotalMilliseconds:F0} ms for {recommendation.Users:N0} users, status " +
                $"{recommendation.Status}, {recommendation.Draws} bootstrap draws (target <= 1,000 ms)");
            Console.WriteLine($"cold recommendation (fresh DuckDB, builds the user summary): {cold.Elapsed.TotalMilliseconds:F0} ms; cold readout: " +
                $"{coldReadout.TotalMilliseconds:F0} ms; ratio {cold.Elapsed.TotalMilliseconds / coldReadout.TotalMilliseconds:F2} (target <= 2)");
            Console.WriteLine($"peak working set {(resetPeak ? "from the cold readout on (the lake generation excluded)" : "of the process")}: " +
                $"{peak:F0} MB (target <= 512 MB)");
            return 0;
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }
}
