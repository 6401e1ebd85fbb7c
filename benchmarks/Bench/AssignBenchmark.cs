using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PricingOptimizer.Pipelines.Cli;

namespace PricingOptimizer.Benchmarks.Bench;

/// <summary>
/// <c>po bench assign</c>: <c>POST /v1/assign</c> over real HTTP on the embedded defaults (each assign is also
/// recorded in the event log): the most requests per second with many in flight, then latency percentiles at a fixed
/// rate. Latency is measured from each request's scheduled time, so a stall is not hidden (no coordinated omission).
/// </summary>
public static class AssignBenchmark
{
    public static Command Create()
    {
        var seconds = new Option<int>("--seconds") { Description = "Length of each phase", DefaultValueFactory = _ => 10 };
        var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight in the throughput phase", DefaultValueFactory = _ => 64 };
        var rate = new Option<int>("--rate") { Description = "Requests per second in the latency phase", DefaultValueFactory = _ => 2000 };
        var adaptive = new Option<bool>("--adaptive")
        {
            Description = "An adaptive experiment: each assign reads (and for a new user records) the user's first assignment",
        };
        var recorded = new Option<int>("--recorded")
        {
            Description = "With --adaptive: users already recorded before the run (the requests draw from them and 10% new ones)",
            DefaultValueFactory = _ => 2_000_000,
        };
        var wrk = new Option<bool>("--wrk")
        {
            Description = "Then drive the same server with wrk (a separate, lighter client than this process's HttpClient; needs wrk on PATH)",
        };
        var command = new Command("assign", "HTTP POST /v1/assign: requests/s, then p50/p99 latency at a fixed rate.")
        {
            seconds, concurrency, rate, adaptive, recorded, wrk,
        };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(seconds), parse.GetValue(concurrency), parse.GetValue(rate), parse.GetValue(adaptive),
            parse.GetValue(recorded), parse.GetValue(wrk), ct));
        return command;
    }

    private static async Task<int> RunAsync(int seconds, int concurrency, int rate, bool adaptive, int recorded, bool wrk,
        CancellationToken cancellationToken)
    {
        if (seconds < 1 || concurrency < 1 || rate < 1 || recorded < 0)
        {
            throw new CliException("--seconds, --concurrency and --rate must be positive, --recorded not negative");
        }

        var wrkPath = wrk ? FindOnPath("wrk") ?? throw new CliException("--wrk: no wrk on PATH (Debian: apt-get install wrk)") : null;

        var data = Directory.CreateTempSubdirectory("po-bench-assign-");
        try
        {
            Console.WriteLine($"machine: {BenchData.Machine()}");
            var adminKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
            var configuration = CommonOptions.Configuration(data.FullName, null, new Dictionary<string, string?>
            {
                ["Auth:SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
                ["Auth:AdminKey"] = adminKey,
                // A plan without a practical rate limit, so the benchmark measures the service and not the limiter.
                ["Plans:bench:RequestsPerMinute"] = "1000000",
                ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
            });
            await using var api = await LocalIngestApi.StartAsync(configuration, LogLevel.Warning, cancellationToken);
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512 }) { BaseAddress = api.Address };
            var tenantId = await SetUpAsync(http, adminKey, adaptive, cancellationToken);
            var users = Enumerable.Range(0, 100_000);
            if (adaptive)
            {
                var watch = Stopwatch.StartNew();
                RecordFirstAssignments(Path.Combine(data.FullName, "controlplane.db"), tenantId, recorded);
                Console.WriteLine($"adaptive experiment; {recorded:N0} users' first assignments recorded in {watch.Elapsed.TotalSeconds:F1} s; " +
                    "requests draw 90% recorded users, 10% new ones");
                var random = new Random(5);
                users = Enumerable.Range(0, 200_000).Select(i => i % 10 == 0 || recorded == 0 ? recorded + i : random.Next(recorded));
            }

            var bodies = users
                .Select(i => JsonSerializer.SerializeToUtf8Bytes(new { ExperimentId = "bench",
                    UserId = "user-" + i.ToString(CultureInfo.InvariantCulture) }, PricingOptimizer.Json.Wire.Options))
                .ToArray();
            var next = 0;
            byte[] Body() => bodies[(int)((uint)Interlocked.Increment(ref next) % bodies.Length)];

            await ClosedLoopAsync(http, Body, concurrency, TimeSpan.FromSeconds(3), cancellationToken); // warm-up
            var (requests, elapsed) = await ClosedLoopAsync(http, Body, concurrency, TimeSpan.FromSeconds(seconds), cancellationToken);
            Console.WriteLine($"throughput: {requests:N0} assigns in {elapsed.TotalSeconds:F1} s = {requests / elapsed.TotalSeconds:N0} req/s with " +
                $"{concurrency} in flight (target >= 10,000 req/s)");

            var latencies = await OpenLoopAsync(http, Body, rate, TimeSpan.FromSeconds(seconds), cancellationToken);
            latencies.Sort();
            double Percentile(double q) => latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
            Console.WriteLine($"latency at {rate:N0} req/s for {seconds} s ({latencies.Count:N0} requests): p50 {Percentile(0.50):F2} ms, p90 " +
                $"{Percentile(0.90):F2} ms, p99 {Percentile(0.99):F2} ms, max {latencies[^1]:F2} ms (target p99 <= 10 ms)");
            if (wrkPath is not null)
            {
                await RunWrkAsync(wrkPath, data.FullName, http, adaptive ? recorded : 0, concurrency, seconds, cancellationToken);
            }

            return 0;
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    /// <summary>
    /// wrk, one thread, <paramref name="concurrency"/> connections, for <paramref name="seconds"/>: the same request mix (with recorded users,
    /// 90% of them and 10% new ones never seen before), its requests/s and latency percentiles printed as wrk reports them.
    /// </summary>
    private static async Task RunWrkAsync(string wrk, string folder, HttpClient http, int recorded, int concurrency, int seconds,
        CancellationToken cancellationToken)
    {
        var script = Path.Combine(folder, "assign.lua");
        await File.WriteAllTextAsync(script, $$"""
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/json"
            wrk.headers["Authorization"] = "{{http.DefaultRequestHeaders.Authorization}}"
            local recorded = {{recorded}}
            local fresh = 10000000
            request = function()
              local user
              if recorded > 0 and math.random() < 0.9 then
                user = math.random(0, recorded - 1)
              else
                fresh = fresh + 1
                user = fresh
              end
              return wrk.format(nil, "/v1/assign", nil, '{"experiment_id":"bench","user_id":"user-' .. user .. '"}')
            end
            done = function(summary, latency, requests)
              io.write(string.format("wrk: %d requests, %d errors, %d non-2xx\n", summary.requests,
                summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
            end
            """, cancellationToken);
        var start = new ProcessStartInfo(wrk, ["-t1", $"-c{concurrency}", $"-d{seconds}s", "--latency", "-s", script, http.BaseAddress!.ToString()])
        {
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start) ?? throw new CliException("wrk did not start");
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var lines = output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string Line(string prefix) => lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) ?? "?";
        Console.WriteLine($"wrk -t1 -c{concurrency} -d{seconds}s (a separate client process): {Line("Requests/sec")} (target >= 10,000 req/s); " +
            $"latency under that load: {Line("50%")}, {Line("99%")}; {Line("wrk:")}");
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    private static async Task<string> SetUpAsync(HttpClient http, string adminKey, bool adaptive, CancellationToken cancellationToken)
    {
        var (tenantId, token, _) = await ApiSetup.CreateTenantAsync(http.BaseAddress!, adminKey, "bench", "bench", cancellationToken);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await ApiSetup.CreateStartedExperimentAsync(http, "bench", "USD", [("a", 9.99m), ("b", 8.99m)], cancellationToken,
            allocation: adaptive ? new { Mode = "adaptive" } : null);
        return tenantId;
    }

    /// <summary>Writes <paramref name="count"/> users' first assignments straight into the control plane's table, as a long-running test leaves them.</summary>
    private static void RecordFirstAssignments(string database, string tenantId, int count)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + database);
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO first_assignments (tenant_id, experiment_id, user_id, variant_id, version, assigned_at)
            VALUES ($tenant, 'bench', $user, $variant, 0, $at)
            """;
        insert.Parameters.AddWithValue("$tenant", tenantId);
        var user = insert.Parameters.Add("$user", Microsoft.Data.Sqlite.SqliteType.Text);
        var variant = insert.Parameters.Add("$variant", Microsoft.Data.Sqlite.SqliteType.Text);
        insert.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        insert.Prepare();
        for (var i = 0; i < count; i++)
        {
            user.Value = "user-" + i.ToString(CultureInfo.InvariantCulture);
            variant.Value = i % 2 == 0 ? "a" : "b";
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private static async Task SendAsync(HttpClient http, byte[] body, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync("/v1/assign", content, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new CliException($"POST /v1/assign answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    private static async Task<(long Requests, TimeSpan Elapsed)> ClosedLoopAsync(HttpClient http, Func<byte[]> body, int concurrency, TimeSpan duration,
        CancellationToken cancellationToken)
    {
        long requests = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (watch.Elapsed < duration)
            {
                await SendAsync(http, body(), cancellationToken);
                Interlocked.Increment(ref requests);
            }
        }, cancellationToken)));
        return (requests, watch.Elapsed);
    }

    private static async Task<List<double>> OpenLoopAsync(HttpClient http, Func<byte[]> body, int rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        var latencies = new List<double>();
        var gate = new Lock();
        var inFlight = new List<Task>();
        var watch = Stopwatch.StartNew();
        var total = (long)(rate * duration.TotalSeconds);
        for (long i = 0; i < total; i++)
        {
            var scheduled = TimeSpan.FromSeconds((double)i / rate);
            var wait = scheduled - watch.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait, cancellationToken);
            }

            inFlight.Add(Task.Run(async () =>
            {
                await SendAsync(http, body(), cancellationToken);
                var latency = (watch.Elapsed - scheduled).TotalMilliseconds;
                lock (gate)
                {
                    latencies.Add(latency);
                }
            }, cancellationToken));
        }

        await Task.WhenAll(inFlight);
        return latencies;
    }
}
