using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using PricingOptimizer.Analytics;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Experiments;
using PricingOptimizer.Hosting;
using PricingOptimizer.Lake;
using PricingOptimizer.Pipelines.Cli;
using PricingOptimizer.Pricing;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Benchmarks.Bench;

/// <summary>
/// <c>po bench dashboard</c>: <c>GET /v1/analytics/experiments</c>'s work over a generated lake of one tenant with many
/// experiments (defined in a control plane, as the API has them): the first call (every experiment's summary built),
/// then the warm call (median), and the call after a new file landed whose users are in every experiment.
/// </summary>
public static class DashboardBenchmark
{
    public static Command Create()
    {
        var events = new Option<int>("--events") { Description = "Events in the generated lake", DefaultValueFactory = _ => 10_000_000 };
        var experiments = new Option<int>("--experiments") { Description = "Experiments the events are spread over", DefaultValueFactory = _ => 50 };
        var runs = new Option<int>("--runs") { Description = "Timed warm runs (median reported)", DefaultValueFactory = _ => 5 };
        var command = new Command("dashboard", "The analytics dashboard over a generated lake: first call and warm call.") { events, experiments, runs };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(events), parse.GetValue(experiments), parse.GetValue(runs), ct));
        return command;
    }

    private static async Task<int> RunAsync(int count, int experimentCount, int runs, CancellationToken cancellationToken)
    {
        if (count < 1000 || runs < 1 || experimentCount is < 1 or > 1000)
        {
            throw new CliException("--events must be at least 1000, --experiments from 1 to 1000 and --runs positive");
        }

        var data = Directory.CreateTempSubdirectory("po-bench-dashboard-");
        try
        {
            Console.WriteLine($"machine: {BenchData.Machine()}");
            var layout = new LakeLayout(Path.Combine(data.FullName, "lake"));
            var generate = Stopwatch.StartNew();
            ReadoutBenchmark.Generate(layout, count, experiments: experimentCount);
            var prior = ReadoutBenchmark.GeneratePrior(layout, count);
            Console.WriteLine($"lake: {count:N0} events over {experimentCount} experiments and {prior:N0} earlier purchases (CUPED's pre-period), " +
                $"generated in {generate.Elapsed.TotalSeconds:F1} s");

            var store = new SqliteControlPlaneStore("Data Source=" + Path.Combine(data.FullName, "controlplane.db"));
            var created = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
            await store.CreateTenantAsync(new Tenant("bench", "Bench", "pro", created), cancellationToken);
            for (var e = 1; e <= experimentCount; e++)
            {
                Variant[] variants = [.. Enumerable.Range(0, 4).Select(v => new Variant("v" + v, 9.99m + v, 1.0, v == 0))];
                await store.InsertExperimentAsync(new Experiment("bench", "exp-" + e, "Experiment " + e, "USD", ExperimentStatus.Active, variants,
                    created, created), cancellationToken);
            }

            using var queries = new LakeQueries(layout);
            var readouts = new ReadoutService(queries, store);
            var pricing = new PricingService(queries, store, new DemandModelFolder(new StorageOptions { DataDirectory = data.FullName }.ModelsRoot),
                Options.Create(new RecommendationOptions()), Options.Create(new Statistics.StatisticsOptions()), new CharmPricing(new CharmOptions()), TimeProvider.System);
            var dashboards = new DashboardService(store, readouts, queries, pricing, TimeProvider.System);
            var first = Stopwatch.StartNew();
            var dashboard = await dashboards.GetAsync("bench", null, cancellationToken);
            first.Stop();
            var users = dashboard.Experiments.Sum(e => e.Users);
            var persist = Stopwatch.StartNew();
            await queries.FlushSummariesAsync();
            persist.Stop();
            var (fresh, freshWall) = await FreshProcess.RunAsync("dashboard", data.FullName);
            var warm = await ReadoutBenchmark.TimeAsync(runs, async () => dashboard = await dashboards.GetAsync("bench", null, cancellationToken));
            Console.WriteLine($"dashboard of {dashboard.Experiments.Count} experiments, {users:N0} users: first call (builds every summary) " +
                $"{first.Elapsed.TotalSeconds:F1} s; warm median of {runs}: {warm.TotalMilliseconds:F0} ms (target <= 2,000 ms)");

            Console.WriteLine($"  persisting the {experimentCount} summaries and the tenant's purchases under _summaries/ (in the background): " +
                $"{persist.Elapsed.TotalSeconds:F1} s");
            Console.WriteLine($"  fresh process, summaries present: {fresh} (wall {freshWall.TotalMilliseconds:F0} ms with the process start; target <= 3,000 ms)");

            ReadoutBenchmark.Generate(layout, 10_000, offset: count, folder: "tenant_id=bench/event_date=2026-12-01");
            var after = Stopwatch.StartNew();
            dashboard = await dashboards.GetAsync("bench", null, cancellationToken);
            Console.WriteLine($"after a new file of 10,000 events of exp-1 from users already in the other experiments (their purchases touch the " +
                $"pre-period sums of all {experimentCount} summaries): {after.Elapsed.TotalMilliseconds:F0} ms in this process (target <= 2,000 ms)");
            await queries.FlushSummariesAsync();
            var (freshAfter, freshAfterWall) = await FreshProcess.RunAsync("dashboard", data.FullName);
            Console.WriteLine($"  a fresh process then: {freshAfter} (wall {freshAfterWall.TotalMilliseconds:F0} ms)");
            return 0;
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }
}
