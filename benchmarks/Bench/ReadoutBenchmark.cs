using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Lake;
using PricingOptimizer.Pipelines.Cli;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Benchmarks.Bench;

/// <summary>
/// <c>po bench readout</c>: a generated lake of N events (DuckDB writes it, partitioned like the lander's), then the
/// warm readout (DuckDB sufficient statistics plus the C# statistics) against the bare DuckDB SQL of the same aggregate.
/// </summary>
public static class ReadoutBenchmark
{
    public static Command Create()
    {
        var events = new Option<int>("--events") { Description = "Events in the generated lake", DefaultValueFactory = _ => 10_000_000 };
        var runs = new Option<int>("--runs") { Description = "Timed runs of each (median reported)", DefaultValueFactory = _ => 5 };
        var command = new Command("readout", "Warm readout over a generated lake vs the bare DuckDB SQL of the same aggregate.") { events, runs };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(events), parse.GetValue(runs), ct));
        return command;
    }

    private static async Task<int> RunAsync(int count, int runs, CancellationToken cancellationToken)
    {
        if (count < 1000 || runs < 1)
        {
            throw new CliException("--events must be at least 1000 and --runs positive");
        }

        var data = Directory.CreateTempSubdirectory("po-bench-readout-");
        try
        {
            Console.WriteLine($"machine: {BenchData.Machine()}");
            var lake = new LakeLayout(Path.Combine(data.FullName, "lake"));
            var generate = Stopwatch.StartNew();
            Generate(lake, count);
            var prior = GeneratePrior(lake, count);
            var files = Directory.EnumerateFiles(lake.EventsRoot, "*.parquet", SearchOption.AllDirectories).ToList();
            Console.WriteLine($"lake: {count:N0} events of the experiment and {prior:N0} earlier purchases (another experiment, 1-20 days before " +
                $"the first assign: CUPED's pre-period) in {files.Count} files ({files.Sum(f => new FileInfo(f).Length) / 1048576.0:F0} MB) " +
                $"generated in {generate.Elapsed.TotalSeconds:F1} s");

            using var queries = new LakeQueries(lake);
            var store = new SqliteControlPlaneStore("Data Source=" + Path.Combine(data.FullName, "controlplane.db"));
            var service = new ReadoutService(queries, store);
            Readout? readout = null;
            var resetPeak = BenchData.TryResetPeak();
            var cold = Stopwatch.StartNew();
            readout = await service.GetAsync("bench", "exp-1", "v0", cancellationToken);
            cold.Stop();
            var coldPeak = BenchData.PeakResidentSinceReset() / 1048576.0;
            BenchData.TryResetPeak();
            var persist = Stopwatch.StartNew();
            await queries.FlushSummariesAsync();
            persist.Stop();
            var persistPeak = BenchData.PeakResidentSinceReset() / 1048576.0;
            BenchData.TryResetPeak();
            var (fresh, freshWall) = await FreshProcess.RunAsync("readout", data.FullName);
            var full = await TimeAsync(runs, async () => readout = await service.GetAsync("bench", "exp-1", "v0", cancellationToken));
            Generate(lake, 10_000, offset: count, folder: "tenant_id=bench/event_date=2026-12-01");
            var incremental = Stopwatch.StartNew();
            await service.GetAsync("bench", "exp-1", "v0", cancellationToken);
            incremental.Stop();
            var peak = (resetPeak ? BenchData.PeakResidentSinceReset() : Environment.WorkingSet) / 1048576.0;
            await queries.FlushSummariesAsync();
            var (freshAfter, freshAfterWall) = await FreshProcess.RunAsync("readout", data.FullName);

            var sql = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "experiment_stats.sql"));
            using var bare = new DuckDBConnection("Data Source=:memory:");
            bare.Open();
            using (var limit = bare.CreateCommand())
            {
                // The same memory limit as the engine's, so the comparison is like for like.
                limit.CommandText = string.Create(CultureInfo.InvariantCulture,
                    $"SET memory_limit = '{LakeQueries.DefaultMemoryLimitMb}MB'; SET temp_directory = '{Path.Combine(data.FullName, "bare-spill")}'");
                limit.ExecuteNonQuery();
            }

            using (var macro = bare.CreateCommand())
            {
                macro.CommandText = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "lake_events_macro.sql"));
                macro.ExecuteNonQuery();
            }

            long rows = 0;
            var sqlOnly = await TimeAsync(runs, () =>
            {
                using var command = bare.CreateCommand();
                command.CommandText = sql;
                command.Parameters.Add(new DuckDBParameter("files", Path.Combine(lake.EventsRoot, "tenant_id=bench", "**", "*.parquet")));
                command.Parameters.Add(new DuckDBParameter("experiment", "exp-1"));
                using var reader = command.ExecuteReader();
                rows = 0;
                while (reader.Read())
                {
                    rows++;
                }

                return Task.CompletedTask;
            });

            Console.WriteLine($"readout (DuckDB + statistics, contract v2 with CUPED: theta {readout!.CupedTheta:F3}, variance removed " +
                $"{readout.CupedVarianceReduction:P1}), warm median of {runs}: {full.TotalMilliseconds:F0} ms for " +
                $"{readout.Variants.Sum(v => v.Users):N0} counted users in {readout.Variants.Count} variants (target <= 1,000 ms)");
            var cappedRuns = await TimeAsync(runs, () => service.GetAsync("bench", "exp-1", "v0", new ReadoutOptions(0.99), cancellationToken));
            Console.WriteLine($"  the same with revenue capped at the 0.99 quantile (a new cap computes its moments once, then is kept): warm " +
                $"median {cappedRuns.TotalMilliseconds:F0} ms");
            Console.WriteLine($"  first (cold) readout, building the experiment's user summary from nothing: {cold.Elapsed.TotalMilliseconds:F0} ms " +
                $"(ratio to the bare SQL {cold.Elapsed.TotalMilliseconds / sqlOnly.TotalMilliseconds:F2}, target <= 1.5); persisting it under " +
                $"_summaries/ then took {persist.Elapsed.TotalMilliseconds:F0} ms more (in the background)");
            Console.WriteLine($"  fresh process, summaries present: {fresh} (wall {freshWall.TotalMilliseconds:F0} ms with the process start; target <= 2,000 ms)");
            Console.WriteLine($"  after 10,000 more events landed: {incremental.Elapsed.TotalMilliseconds:F0} ms in this process; a fresh process then: " +
                $"{freshAfter} (wall {freshAfterWall.TotalMilliseconds:F0} ms)");
            Console.WriteLine($"  peak resident memory of this process: building {coldPeak:F0} MB, persisting {persistPeak:F0} MB, warm readouts and the new " +
                $"file's fold {peak:F0} MB (target <= 512 MB)");
            Console.WriteLine($"bare DuckDB SQL of the same aggregate (v1, no pre-period), same memory limit, warm median of {runs}: " +
                $"{sqlOnly.TotalMilliseconds:F0} ms ({rows} rows)");
            Console.WriteLine($"ratio readout / bare SQL: {full.TotalMilliseconds / sqlOnly.TotalMilliseconds:F2} (target <= 1.25)");
            return 0;
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    internal static async Task<TimeSpan> TimeAsync(int runs, Func<Task> action)
    {
        await action(); // warm: file metadata cached, code jitted
        var times = new List<TimeSpan>();
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            await action();
            times.Add(watch.Elapsed);
        }

        return times.Order().ElementAt(times.Count / 2);
    }

    /// <summary>
    /// Purchases in another experiment by every fifth assigned user, 1 to 20 days before their first assign (CUPED's
    /// pre-period revenue): one tenth as many rows as <paramref name="count"/>. Returns how many.
    /// </summary>
    internal static long GeneratePrior(LakeLayout lake, int count)
    {
        const string Pattern = "prior_{i}";
        var assigns = (long)(count * 0.85);
        var rows = Math.Min(count / 10, assigns / 5);
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = string.Create(CultureInfo.InvariantCulture, $"""
            COPY (
                WITH p AS (SELECT i, i * 5 AS u FROM range(0, {rows}) t(i))
                SELECT 'bench' AS tenant_id,
                       CAST(to_timestamp(1793491200 + (u % 1728000) - 86400 * (1 + u % 20)) AS DATE) AS event_date,
                       'prior-' || i AS event_id, 'convert' AS type, 'exp-0' AS experiment_id, 'a' AS variant_id, 'user-' || u AS user_id,
                       CAST(9.99 AS DECIMAL(18, 4)) AS price, CAST(5 + (u % 50) AS DECIMAL(18, 4)) AS revenue, 'USD' AS currency,
                       to_timestamp(1793491200 + (u % 1728000) - 86400 * (1 + u % 20)) AS occurred_at,
                       CAST(NULL AS MAP(VARCHAR, VARCHAR)) AS properties, to_timestamp(1793491200) AS ingested_at,
                       'bench-prior' AS log_source, i AS log_position
                FROM p
            ) TO '{lake.EventsRoot}' (FORMAT parquet, PARTITION_BY (tenant_id, event_date), OVERWRITE_OR_IGNORE true, FILENAME_PATTERN '{Pattern}')
            """);
        command.ExecuteNonQuery();
        return rows;
    }

    /// <summary>
    /// Users 0..A−1 are assigned to one of four prices over 20 days; every fifth of the first users buys a minute
    /// later; a few users see two variants (excluded by the readout). With <paramref name="slices"/> above one, each
    /// partition's rows are spread over that many files (a trickle's small files).
    /// </summary>
    /// <summary>
    /// Writes <paramref name="count"/> events of tenant "bench": 85% assigns (one user each), then converts of every
    /// fifth user; with <paramref name="experiments"/> above 1, users are spread over exp-1 … exp-N.
    /// </summary>
    internal static void Generate(LakeLayout lake, int count, long offset = 0, string? folder = null, int slices = 1, int experiments = 1)
    {
        Directory.CreateDirectory(lake.EventsRoot);
        if (folder is not null)
        {
            Directory.CreateDirectory(Path.Combine(lake.EventsRoot, folder));
        }

        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        for (var slice = 0; slice < slices; slice++)
        {
            var target = folder is null
                ? string.Create(CultureInfo.InvariantCulture,
                    $"'{lake.EventsRoot}' (FORMAT parquet, PARTITION_BY (tenant_id, event_date), OVERWRITE_OR_IGNORE true, FILENAME_PATTERN " +
                        $"'slice{slice}_{{i}}')")
                : $"'{Path.Combine(lake.EventsRoot, folder, "late-0.parquet")}' (FORMAT parquet)";
            var where = slices > 1 ? string.Create(CultureInfo.InvariantCulture, $"WHERE i % {slices} = {slice}") : "";
            Copy(connection, count, offset, folder, target, where, experiments);
        }
    }

    private static void Copy(DuckDBConnection connection, int count, long offset, string? folder, string target, string where, int experiments)
    {
        var assigns = (long)(count * 0.85);
        using var command = connection.CreateCommand();
        command.CommandText = string.Create(CultureInfo.InvariantCulture, $"""
            COPY (
                WITH e AS (
                    SELECT i,
                           CASE WHEN i < {assigns} THEN i ELSE (i - {assigns}) * 5 END AS u,
                           i >= {assigns} AS is_convert
                    FROM range(0, {count}) t(i)
                )
                SELECT {(folder is null ? "'bench' AS tenant_id, CAST(to_timestamp(1793491200 + (u % 1728000) + CASE WHEN is_convert THEN 60 ELSE 0 END) AS DATE) AS event_date," : "")}
                       'e' || (i + {offset}) AS event_id,
                       CASE WHEN is_convert THEN 'convert' ELSE 'assign' END AS type,
                       'exp-' || ((u // 5) % {experiments} + 1) AS experiment_id,
                       'v' || (u % 4) AS variant_id,
                       'user-' || u AS user_id,
                       CAST(9.99 + (u % 4) AS DECIMAL(18, 4)) AS price,
                       CAST(NULL AS DECIMAL(18, 4)) AS revenue,
                       'USD' AS currency,
                       to_timestamp(1793491200 + (u % 1728000) + CASE WHEN is_convert THEN 60 ELSE 0 END) AS occurred_at,
                       CAST(NULL AS MAP(VARCHAR, VARCHAR)) AS properties,
                       to_timestamp(1793491200) AS ingested_at,
                       'bench' AS log_source,
                       i AS log_position
                FROM e
                {where}
            ) TO {target}
            """);
        command.ExecuteNonQuery();
    }
}
