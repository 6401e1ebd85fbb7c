using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using PricingOptimizer.Analytics;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Hosting;
using PricingOptimizer.Lake;
using PricingOptimizer.Pricing;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Benchmarks.Bench;

/// <summary>
/// The "fresh process" lines of <c>bench readout</c> and <c>bench dashboard</c>: the benchmark starts itself again
/// (<c>fresh readout|dashboard --data DIR</c>, a hidden command), and the new process times its first call over the lake and
/// control plane the parent left in DIR, with the summaries other processes persisted there, and prints its peak memory.
/// </summary>
public static class FreshProcess
{
    public static Command Create()
    {
        var what = new Argument<string>("what") { Description = "readout or dashboard" };
        var data = new Option<string>("--data") { Description = "The benchmark's data folder (lake/ and controlplane.db)", Required = true };
        var command = new Command("fresh", "A fresh process's first readout or dashboard call (started by the readout and dashboard benchmarks).")
        {
            what, data,
        };
        command.Hidden = true;
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(what)!, parse.GetValue(data)!, ct));
        return command;
    }

    private static async Task<int> RunAsync(string what, string data, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        using var queries = new LakeQueries(new LakeLayout(Path.Combine(data, "lake")));
        var store = new SqliteControlPlaneStore("Data Source=" + Path.Combine(data, "controlplane.db"));
        var readouts = new ReadoutService(queries, store);
        if (what == "readout")
        {
            var readout = await readouts.GetAsync("bench", "exp-1", "v0", cancellationToken);
            Print(started, queries, $"{readout.Variants.Sum(v => v.Users):N0} users");
        }
        else
        {
            var pricing = new PricingService(queries, store, new DemandModelFolder(new StorageOptions { DataDirectory = data }.ModelsRoot),
                Options.Create(new RecommendationOptions()), Options.Create(new StatisticsOptions()), new CharmPricing(new CharmOptions()),
                TimeProvider.System);
            var dashboard = await new DashboardService(store, readouts, queries, pricing, TimeProvider.System).GetAsync("bench", null, cancellationToken);
            Print(started, queries, $"{dashboard.Experiments.Count} experiments, {dashboard.Experiments.Sum(e => e.Users):N0} users");
        }

        return 0;
    }

    private static void Print(Stopwatch started, LakeQueries queries, string what) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{started.Elapsed.TotalMilliseconds:F0} ms for {what}; summaries taken up {queries.SummaryLoads}, built {queries.SummaryRebuilds}, " +
            $"files folded {queries.SummaryFoldedFiles}; peak resident {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MB"));

    /// <summary>Runs <c>fresh {what} --data {data}</c> in a new process of this program; returns its line and the wall time, process start included.</summary>
    public static async Task<(string Line, TimeSpan Wall)> RunAsync(string what, string data)
    {
        var watch = Stopwatch.StartNew();
        var host = Environment.ProcessPath!;
        var info = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            info.ArgumentList.Add(typeof(FreshProcess).Assembly.Location);
        }

        foreach (var arg in (string[])["fresh", what, "--data", data])
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var line = (await output).Trim();
        return process.ExitCode == 0 ? (line, watch.Elapsed) : throw new InvalidOperationException($"fresh {what} failed: {await error}");
    }
}
