using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Pipelines.Cli;

namespace PricingOptimizer.Pipelines.Demo;

/// <summary><c>po demo</c>: the pipeline end to end on embedded defaults, everything through the real HTTP API.</summary>
public static class DemoCommand
{
    private static readonly DemoTenant[] Tenants =
    [
        new("Acme Shop", "pro", "checkout-price", "USD", [("control", 9.99m), ("charm", 8.99m), ("premium", 12.99m)], 700),
        new("Globex SaaS", "enterprise", "annual-plan", "EUR", [("control", 99m), ("discount", 79m)], 1200),
    ];

    public static Command Create()
    {
        var data = CommonOptions.Data();
        var seed = new Option<int>("--seed") { Description = "Seed of the simulated traffic", DefaultValueFactory = _ => 42 };
        var command = new Command("demo", "Run the pipeline end to end on embedded defaults: tenants, experiments, assignment, ingest, landing, DuckDB, usage and bills.")
        {
            data, seed,
        };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(data), parse.GetValue(seed), ct));
        return command;
    }

    private sealed record DemoRun(DemoTenant Tenant, string TenantId, HttpClient Client, int Assigns, int Converts);

    private static async Task<int> RunAsync(string? dataOption, int seed, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var data = Path.GetFullPath(Path.Combine(dataOption ?? "data", "demo"));
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }

        Console.WriteLine($"PricingOptimizer demo — data in {data} (cleared at each run)");
        var adminKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        var configuration = CommonOptions.Configuration(data, null, new Dictionary<string, string?>
        {
            ["Lander:FlushIntervalMs"] = "200",
            // Fresh credentials per run: no public development key in play.
            ["Auth:SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["Auth:AdminKey"] = adminKey,
            ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
        });
        await using var api = await LocalIngestApi.StartAsync(configuration, LogLevel.Warning, cancellationToken);
        Console.WriteLine($"[1/6] ingest API on {api.Address} (embedded SQLite event log and control plane, lander inside the API)");

        var runs = new List<DemoRun>();
        foreach (var tenant in Tenants)
        {
            runs.Add(await SetUpTenantAsync(api.Address, adminKey, tenant, cancellationToken));
        }

        Console.WriteLine("[2/6] tenants created with POST /v1/admin/tenants, API keys exchanged at POST /v1/auth/token:");
        foreach (var run in runs)
        {
            Console.WriteLine($"        {run.Tenant.Name,-12} {run.TenantId}  plan {run.Tenant.Plan}");
        }

        Console.WriteLine("[3/6] experiments created and started with POST /v1/experiments and /start:");
        foreach (var run in runs)
        {
            Console.WriteLine($"        {run.Tenant.Name,-12} {run.Tenant.ExperimentId}: {string.Join(", ", run.Tenant.Variants.Select(v => $"{v.Variant} {v.Price} {run.Tenant.Currency}"))}");
        }

        for (var i = 0; i < runs.Count; i++)
        {
            runs[i] = await SimulateAsync(runs[i], seed + i, cancellationToken);
        }

        Console.WriteLine($"[4/6] {runs.Sum(r => r.Assigns):N0} users assigned with POST /v1/assign; {runs.Sum(r => r.Converts):N0} purchases sent in batches to POST /v1/events (one batch sent twice, as a retrying client would)");

        var queries = api.Services.GetRequiredService<LakeQueries>();
        var expectedTotal = runs.Sum(r => r.Assigns + r.Converts);
        var wait = Stopwatch.StartNew();
        IReadOnlyList<TenantEventCounts> counts = [];
        while (wait.Elapsed < TimeSpan.FromSeconds(60))
        {
            counts = await queries.CountByTenantAsync(cancellationToken);
            if (counts.Sum(c => c.Events) >= expectedTotal)
            {
                break;
            }

            await Task.Delay(200, cancellationToken);
        }

        var files = Directory.EnumerateFiles(queries.Layout.EventsRoot, "*.parquet", SearchOption.AllDirectories).Count();
        Console.WriteLine($"[5/6] landed as {files} Parquet files under {queries.Layout.EventsRoot}; read back with DuckDB (each event_id once):");
        Console.WriteLine();
        Console.WriteLine($"        {"tenant",-12} {"events",7} {"assigns",8} {"buys",6} {"conv.rate",9}");
        var ok = counts.Count == runs.Count;
        foreach (var run in runs)
        {
            var c = counts.FirstOrDefault(x => x.TenantId == run.TenantId);
            var match = c is not null && c.Assigns == run.Assigns && c.Converts == run.Converts;
            ok &= match;
            Console.WriteLine($"        {run.Tenant.Name,-12} {c?.Events ?? 0,7:N0} {c?.Assigns ?? 0,8:N0} {c?.Converts ?? 0,6:N0} {(double)(c?.Converts ?? 0) / Math.Max(1, c?.Assigns ?? 0),9:P1}  {(match ? "= sent" : "!= sent")}");
        }

        Console.WriteLine();
        Console.WriteLine("[6/6] usage and this month's bill from GET /v1/usage and GET /v1/billing/{month}:");
        var month = DateTimeOffset.UtcNow.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        foreach (var run in runs)
        {
            using var usage = JsonDocument.Parse(await run.Client.GetStringAsync($"/v1/usage?month={month}", cancellationToken));
            using var bill = JsonDocument.Parse(await run.Client.GetStringAsync($"/v1/billing/{month}", cancellationToken));
            var u = usage.RootElement;
            var b = bill.RootElement;
            Console.WriteLine($"        {run.Tenant.Name,-12} {u.GetProperty("events").GetInt64():N0} of {u.GetProperty("included_events").GetInt64():N0} included events, {u.GetProperty("api_calls").GetInt64():N0} API calls; bill {b.GetProperty("total").GetDecimal():0.00} {b.GetProperty("currency").GetString()} on {b.GetProperty("plan").GetString()}");
            Console.WriteLine($"        {"",-12} {b.GetProperty("recommendation").GetProperty("reason").GetString()}");
            run.Client.Dispose();
        }

        Console.WriteLine();
        Console.WriteLine(ok
            ? $"Every accepted event is in the lake exactly once. Done in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s."
            : "The lake does not match what was sent: see the rows above.");
        return ok ? 0 : 1;
    }

    private static async Task<DemoRun> SetUpTenantAsync(Uri address, string adminKey, DemoTenant tenant, CancellationToken cancellationToken)
    {
        var (tenantId, token) = await ApiSetup.CreateTenantAsync(address, adminKey, tenant.Name, tenant.Plan, cancellationToken);
        var client = new HttpClient { BaseAddress = address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await ApiSetup.CreateStartedExperimentAsync(client, tenant.ExperimentId, tenant.Currency, tenant.Variants, cancellationToken);
        return new DemoRun(tenant, tenantId, client, 0, 0);
    }

    private static async Task<DemoRun> SimulateAsync(DemoRun run, int seed, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        var tenant = run.Tenant;
        var meanPrice = tenant.Variants.Average(v => v.Price);
        var purchases = new List<PricingEvent>();
        for (var u = 0; u < tenant.Users; u++)
        {
            var userId = DemoTraffic.UserId(u);
            using var assigned = await ApiSetup.ReadAsync(await run.Client.PostAsJsonAsync("/v1/assign", new { tenant.ExperimentId, UserId = userId }, ApiSetup.Json, cancellationToken),
                cancellationToken);
            var price = assigned.RootElement.GetProperty("price").GetDecimal();
            if (DemoTraffic.Buys(random, price, meanPrice))
            {
                purchases.Add(new PricingEvent($"order-{userId}", EventType.Convert, tenant.ExperimentId,
                    assigned.RootElement.GetProperty("variant_id").GetString()!, userId, price, DemoTraffic.Revenue(random, price), tenant.Currency,
                    EventValidator.TruncateToMicroseconds(DateTimeOffset.UtcNow)));
            }
        }

        foreach (var batch in purchases.Chunk(250))
        {
            await PostEventsAsync(run.Client, batch, cancellationToken);
        }

        await PostEventsAsync(run.Client, purchases.Take(50).ToArray(), cancellationToken); // the retry
        return run with { Assigns = tenant.Users, Converts = purchases.Count };
    }

    private static async Task PostEventsAsync(HttpClient client, IReadOnlyList<PricingEvent> batch, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(EventJson.SerializeBatch(batch));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        (await ApiSetup.ReadAsync(await client.PostAsync("/v1/events", content, cancellationToken), cancellationToken)).Dispose();
    }
}
