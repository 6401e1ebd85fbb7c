using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Pipelines.Cli;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Pipelines.Demo;

/// <summary><c>po demo</c>: the pipeline end to end on embedded defaults, through the real HTTP API.</summary>
public static class DemoCommand
{
    private static readonly DemoTenant[] Tenants =
    [
        new("acme", "starter", "checkout-price", "USD", [("control", 9.99m), ("charm", 8.99m), ("premium", 12.99m)], 2000),
        new("globex", "pro", "annual-plan", "EUR", [("control", 99m), ("discount", 79m)], 1200),
    ];

    public static Command Create()
    {
        var data = CommonOptions.Data();
        var seed = new Option<int>("--seed") { Description = "Seed of the simulated traffic", DefaultValueFactory = _ => 42 };
        var command = new Command("demo", "Run the pipeline end to end on embedded defaults: ingest API, event log, lander, lake, DuckDB.") { data, seed };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(data), parse.GetValue(seed), ct));
        return command;
    }

    private static async Task<int> RunAsync(string? dataOption, int seed, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var data = Path.GetFullPath(Path.Combine(dataOption ?? "data", "demo"));
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }

        Console.WriteLine($"PricingOptimizer demo — data in {data} (cleared at each run)");
        var configuration = CommonOptions.Configuration(data, null, new Dictionary<string, string?>
        {
            ["Lander:FlushIntervalMs"] = "200",
            // The demo mints its own tokens, so a fresh key per run: no public development key in play.
            ["Auth:SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
        });
        await using var api = await LocalIngestApi.StartAsync(configuration, LogLevel.Warning, cancellationToken);
        Console.WriteLine($"[1/4] ingest API listening on {api.Address} (embedded SQLite event log, lander hosted in the API)");

        using var http = new HttpClient { BaseAddress = api.Address };
        var issuer = api.Services.GetRequiredService<TokenIssuer>();
        var now = DateTimeOffset.UtcNow;
        var expected = new Dictionary<string, (int Events, int Assigns, int Converts)>();
        var sent = 0;
        foreach (var tenant in Tenants)
        {
            var events = DemoTraffic.Generate(tenant, seed + tenant.TenantId.Length, now);
            expected[tenant.TenantId] = (events.Count, events.Count(e => e.Type == EventType.Assign), events.Count(e => e.Type == EventType.Convert));
            var token = issuer.Issue(tenant.TenantId, tenant.Plan);
            foreach (var batch in events.Chunk(500))
            {
                await PostAsync(http, token, batch, cancellationToken);
                sent += batch.Length;
            }

            // A client retry: the same batch again. Event ids make it count once.
            await PostAsync(http, token, events.Take(100).ToArray(), cancellationToken);
            sent += 100;
        }

        Console.WriteLine($"[2/4] sent {sent:N0} events for {Tenants.Length} tenants over HTTP (including a retried batch of 100)");

        var queries = api.Services.GetRequiredService<LakeQueries>();
        var wait = Stopwatch.StartNew();
        IReadOnlyList<TenantEventCounts> counts = [];
        while (wait.Elapsed < TimeSpan.FromSeconds(60))
        {
            counts = await queries.CountByTenantAsync(cancellationToken);
            if (counts.Sum(c => c.Events) == expected.Values.Sum(e => e.Events))
            {
                break;
            }

            await Task.Delay(200, cancellationToken);
        }

        var files = Directory.EnumerateFiles(queries.Layout.EventsRoot, "*.parquet", SearchOption.AllDirectories).Count();
        Console.WriteLine($"[3/4] landed into {files} Parquet files under {queries.Layout.EventsRoot}");
        Console.WriteLine("[4/4] per-tenant counts read back with DuckDB (each event_id once):");
        Console.WriteLine();
        Console.WriteLine($"  {"tenant",-8} {"events",8} {"assigns",8} {"converts",9} {"conv.rate",9} {"experiments",11}  dates");
        var ok = true;
        foreach (var c in counts)
        {
            var want = expected.GetValueOrDefault(c.TenantId);
            var match = want.Events == c.Events && want.Assigns == c.Assigns && want.Converts == c.Converts;
            ok &= match;
            Console.WriteLine($"  {c.TenantId,-8} {c.Events,8:N0} {c.Assigns,8:N0} {c.Converts,9:N0} {(double)c.Converts / c.Assigns,9:P1} {c.Experiments,11}  {c.FirstDate:yyyy-MM-dd}..{c.LastDate:yyyy-MM-dd}  {(match ? "= sent" : $"!= sent ({want.Events})")}");
        }

        ok &= counts.Count == expected.Count;
        Console.WriteLine();
        Console.WriteLine(ok
            ? $"Every accepted event is in the lake exactly once. Done in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s."
            : "The lake does not match what was sent: see the rows above.");
        return ok ? 0 : 1;
    }

    private static async Task PostAsync(HttpClient http, string token, IReadOnlyList<PricingEvent> batch, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new ByteArrayContent(EventJson.SerializeBatch(batch)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, cancellationToken);
        if ((int)response.StatusCode != 202)
        {
            throw new CliException($"the ingest API answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }
}
