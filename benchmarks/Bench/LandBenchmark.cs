using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using PricingOptimizer.EventLog;
using PricingOptimizer.EventLog.Embedded;
using PricingOptimizer.EventLog.Kafka;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Pipelines.Cli;
using PricingOptimizer.Testing;

namespace PricingOptimizer.Benchmarks.Bench;

/// <summary><c>po bench land</c>: lander throughput from a full log into Parquet, and the process's peak memory while it lands.</summary>
public static class LandBenchmark
{
    public static Command Create()
    {
        var events = new Option<int>("--events") { Description = "Backlog size", DefaultValueFactory = _ => 1_000_000 };
        var batch = new Option<int>("--batch") { Description = "Lander:BatchSize", DefaultValueFactory = _ => 100_000 };
        var log = new Option<string>("--log") { Description = "embedded or kafka (the mock)", DefaultValueFactory = _ => "embedded" };
        log.AcceptOnlyFromAmong("embedded", "kafka");
        var command = new Command("land", "Lander events/s from a backlog in the log into Parquet, and peak memory.") { events, batch, log };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(events), parse.GetValue(batch), parse.GetValue(log)!, ct));
        return command;
    }

    private static async Task<int> RunAsync(int count, int batchSize, string kind, CancellationToken cancellationToken)
    {
        if (count < 1 || batchSize < 1)
        {
            throw new CliException("--events and --batch must be positive");
        }

        var data = Directory.CreateTempSubdirectory("po-bench-land-");
        KafkaMockCluster? mock = null;
        try
        {
            Console.WriteLine($"machine: {BenchData.Machine()}");
            IEventLog log;
            if (kind == "kafka")
            {
                KafkaNative.EnsureResolver();
                mock = new KafkaMockCluster(1);
                // The mock broker keeps only about 110,000 recent messages per partition and drops older ones,
                // so the backlog is spread to stay under that.
                mock.CreateTopic("bench.land", Math.Max(6, count / 50_000));
                log = new KafkaEventLog(new KafkaOptions { BootstrapServers = mock.BootstrapServers, Topic = "bench.land" },
                    NullLogger<KafkaEventLog>.Instance);
            }
            else
            {
                log = new SqliteEventLog(Path.Combine(data.FullName, "eventlog.db"));
            }

            await using (log)
            {
                var fill = Stopwatch.StartNew();
                var now = DateTimeOffset.UtcNow;
                const int appendSize = 10_000;
                for (var start = 0; start < count; start += appendSize)
                {
                    var n = Math.Min(appendSize, count - start);
                    var items = new TenantEvent[n];
                    for (var i = 0; i < n; i++)
                    {
                        items[i] = new TenantEvent(BenchData.Tenant(start + i), now, BenchData.Event(start + i, now));
                    }

                    await log.AppendAsync(items, cancellationToken);
                }

                Console.WriteLine($"backlog: {count:N0} events appended to the {log.Kind} log in {fill.Elapsed.TotalSeconds:F1} s");

                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                using var process = Process.GetCurrentProcess();
                process.Refresh();
                var before = process.WorkingSet64;
                var peak = before;
                using var sampling = new CancellationTokenSource();
                var sampler = Task.Run(async () =>
                {
                    while (!sampling.IsCancellationRequested)
                    {
                        process.Refresh();
                        peak = Math.Max(peak, process.WorkingSet64);
                        await Task.Delay(20, CancellationToken.None);
                    }
                }, CancellationToken.None);

                var lake = new LakeLayout(Path.Combine(data.FullName, "lake"));
                var lander = new Lander(log, lake, new LanderOptions { BatchSize = batchSize, FlushIntervalMs = 500 }, NullLogger<Lander>.Instance);
                using var consumer = log.OpenConsumer("bench-lander");
                var watch = Stopwatch.StartNew();
                long landed = 0;
                while (landed < count)
                {
                    landed += await lander.LandAsync(consumer, stopWhenIdle: true, cancellationToken);
                    if (landed < count && watch.Elapsed > TimeSpan.FromMinutes(5))
                    {
                        throw new CliException($"the lander stalled after {landed:N0} of {count:N0} events");
                    }
                }

                watch.Stop();
                await sampling.CancelAsync();
                await sampler;

                using var queries = new LakeQueries(lake);
                var inLake = (await queries.CountByTenantAsync(cancellationToken)).Sum(c => c.Events);
                var files = Directory.EnumerateFiles(lake.EventsRoot, "*.parquet", SearchOption.AllDirectories).Count();
                Console.WriteLine($"lander ({kind} log -> Parquet): {landed:N0} events in {watch.Elapsed.TotalSeconds:F2} s = " +
                    $"{landed / watch.Elapsed.TotalSeconds:N0} events/s (target >= 300,000), {files} files, batch {batchSize:N0}");
                Console.WriteLine($"memory: working set {before / 1048576.0:F0} MB before landing, peak {peak / 1048576.0:F0} MB while landing " +
                    $"(target <= 512 MB)");
                Console.WriteLine($"check: DuckDB counts {inLake:N0} distinct events in the lake ({(inLake == count ? "= backlog" : "!= backlog")})");
                return inLake == count ? 0 : 1;
            }
        }
        finally
        {
            mock?.Dispose();
            data.Delete(recursive: true);
        }
    }
}
