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
    private static DemoTenant[] Tenants(Simulation.SimulationSettings acme) =>
    [
        new("Acme Shop", "pro", "checkout-price", "USD", [("p799", 7.99m), ("p999", 9.99m), ("p1199", 11.99m), ("p1399", 13.99m)], "p799", acme.Shape,
            8000, acme.Buyers),
        new("Globex SaaS", "enterprise", "annual-plan", "EUR", [("p79", 79m), ("p99", 99m)], "p99", Simulation.DemandShape.Create("logit", 0.5, -0.025), 1500),
    ];

    private static string ControlOf(DemoTenant tenant) => tenant.Control;

    /// <summary>The API runs in this process on a busy machine: a pause is not an outage, so the SDK may wait longer than a checkout would.</summary>
    private static readonly TimeSpan DemoEvaluationTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The price a shop shows without a test: the SDK's default when it cannot evaluate the experiment.</summary>
    private static decimal ControlPrice(DemoTenant tenant) => tenant.Variants.First(v => v.Variant == tenant.Control).Price;

    /// <summary>The demo's API is in the same process: a fallback would mean it broke, so the demo stops and says why.</summary>
    private static Client.Assignment InExperiment(Client.Assignment assigned) => assigned.InExperiment
        ? assigned
        : throw new InvalidOperationException($"the SDK answered a fallback for {assigned.UserId} in {assigned.ExperimentId}: {assigned.FallbackReason}");

    public static Command Create()
    {
        var data = CommonOptions.Data();
        var seed = new Option<int>("--seed") { Description = "Seed of the simulated traffic", DefaultValueFactory = _ => 42 };
        var command = new Command("demo",
            "The whole story on embedded defaults: tenants, a four-price experiment, simulated shoppers through the HTTP API, landing, readout, " +
                "recommendation, usage, bill and report.")
        {
            data, seed,
        };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(data), parse.GetValue(seed), ct));
        return command;
    }

    private sealed record DemoRun(DemoTenant Tenant, string TenantId, string ApiKey, HttpClient Client, int Assigns, int Converts);

    private const int Steps = 11;

    private static void Step(int step, string text) => Console.WriteLine($"[{step}/{Steps}] {text}");

    /// <summary>A figure scaled and formatted, or a dash where the API says it does not apply.</summary>
    private static string Figure(double? value, string format, double scale = 1) =>
        value is { } v ? (v * scale).ToString(format, CultureInfo.InvariantCulture) : "—";

    /// <summary>The SDK as the tenant's own code would read with it.</summary>
    private static Client.PricingOptimizerClient Reader(DemoRun run) =>
        new(new Client.PricingOptimizerClientOptions { BaseAddress = run.Client.BaseAddress, ApiKey = run.ApiKey });

    private static async Task<int> RunAsync(string? dataOption, int seed, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var data = Path.GetFullPath(Path.Combine(dataOption ?? "data", "demo"));
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }

        Console.WriteLine($"PricingOptimizer demo — data in {data} (cleared at each run)");
        var (settings, source) = DemoTraffic.Settings();
        var tenants = Tenants(settings);
        var adminKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        var configuration = CommonOptions.Configuration(data, null, new Dictionary<string, string?>
        {
            ["Lander:FlushIntervalMs"] = "200",
            // Fresh credentials per run: no public development key in play.
            ["Auth:SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["Auth:AdminKey"] = adminKey,
            ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
            // Step 11's afternoon asks the API once per new shopper (an adaptive experiment's variant is the API's): 2,400 calls in
            // seconds, where the plans allow 1,000 (pro) and 5,000 (enterprise) a minute.
            ["Plans:pro:RequestsPerMinute"] = "20000",
            ["Plans:enterprise:RequestsPerMinute"] = "50000",
        });
        await using var api = await LocalIngestApi.StartAsync(configuration, LogLevel.Warning, cancellationToken);
        Step(1, $"ingest API on {api.Address} (embedded SQLite event log and control plane, lander and billing dispatcher inside the API)");

        var runs = new List<DemoRun>();
        foreach (var tenant in tenants)
        {
            runs.Add(await SetUpTenantAsync(api.Address, adminKey, tenant, cancellationToken));
        }

        Step(2, "tenants on two plans, created with POST /v1/admin/tenants; API keys exchanged at POST /v1/auth/token:");
        foreach (var run in runs)
        {
            Console.WriteLine($"        {run.Tenant.Name,-12} {run.TenantId}  plan {run.Tenant.Plan}");
        }

        Step(3, "experiments created and started with POST /v1/experiments and /start (equal weights):");
        foreach (var run in runs)
        {
            Console.WriteLine($"        {run.Tenant.Name,-12} {run.Tenant.ExperimentId}: " +
                $"{string.Join(", ", run.Tenant.Variants.Select(v => $"{v.Price} {run.Tenant.Currency}{(v.Variant == ControlOf(run.Tenant) ? " (control)" : "")}"))}");
        }

        Step(4, $"shoppers from the seeded demand generator ({source}) through PricingOptimizer.Client: the variant computed locally with the " +
            $"server's hash, the assign and, when the curve says so, the purchase sent in batches to POST /v1/events:");
        for (var i = 0; i < runs.Count; i++)
        {
            runs[i] = await SimulateAsync(runs[i], seed + i, cancellationToken);
        }

        Console.WriteLine($"        then 50 purchases sent again straight to POST /v1/events, as a client retrying after a lost answer would");

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
        Step(5, $"landed as {files} Parquet files under {queries.Layout.EventsRoot}; read back with DuckDB (each event_id once):");
        Console.WriteLine($"        {"tenant",-12} {"events",7} {"assigns",8} {"buys",6} {"conv.rate",9}");
        var ok = counts.Count == runs.Count;
        foreach (var run in runs)
        {
            var c = counts.FirstOrDefault(x => x.TenantId == run.TenantId);
            var match = c is not null && c.Assigns == run.Assigns && c.Converts == run.Converts;
            ok &= match;
            Console.WriteLine($"        {run.Tenant.Name,-12} {c?.Events ?? 0,7:N0} {c?.Assigns ?? 0,8:N0} {c?.Converts ?? 0,6:N0} " +
                $"{100.0 * (c?.Converts ?? 0) / Math.Max(1, c?.Assigns ?? 0),8:0.0}%  {(match ? "= sent" : "!= sent")}");
        }

        var acme = runs[0];
        Step(6, $"readout of {acme.Tenant.Name}'s {acme.Tenant.ExperimentId} from GET /v1/experiments/{acme.Tenant.ExperimentId}/readout:");
        await using var acmeSdk = Reader(acme);
        var readout = await acmeSdk.GetReadoutAsync(acme.Tenant.ExperimentId, cancellationToken);
        Console.WriteLine($"        {"price",7} {"users",6} {"buys",5} {"conv.rate",9} {"rev/user",8} {"lift",7} {"seq. p",7}");
        foreach (var v in readout.Variants.OrderBy(v => v.Price))
        {
            Console.WriteLine($"        {v.Price,7:0.00} {v.Users,6:N0} {v.Conversions,5:N0} {Figure(v.ConversionRate, "0.0", 100) + "%",9} " +
                $"{Figure(v.RevenuePerUser, "0.000"),8} {Figure(v.Lift, "+0.0;-0.0", 100) + (v.Lift is null ? "" : "%"),7} " +
                $"{Figure(v.SequentialPValue, "0.000"),7}");
        }

        var low = (double)acme.Tenant.Variants.Min(v => v.Price);
        var high = (double)acme.Tenant.Variants.Max(v => v.Price);
        Step(7, $"recommendation from GET /v1/experiments/{acme.Tenant.ExperimentId}/recommendation?goal=revenue (the simulated shop's true " +
            $"revenue optimum in the tested range, shoppers buying {acme.Tenant.Buyers}, is " +
            $"{acme.Tenant.Demand.Optimum(low, high, (price, rate) => price * rate * acme.Tenant.Buyers.MeanUnits(price)).Price:0.00}):");
        var r = await acmeSdk.GetRecommendationAsync(acme.Tenant.ExperimentId, "revenue", cancellationToken: cancellationToken);
        if (r.Status == "ok")
        {
            Console.WriteLine($"        charge {r.RecommendedPrice:0.00} USD{(r.CharmApplied ? " (charm ending)" : "")}; optimum " +
                $"{r.OptimalPrice:0.00}; expected revenue {r.ExpectedValue:0.000} per user (95% " +
                $"{r.ExpectedValueCi![0]:0.000}–{r.ExpectedValueCi[1]:0.000}) vs control {r.ControlExpectedValue:0.000}; confidence {r.Confidence * 100:0.0}%");
            Console.WriteLine($"        naive rule (best tested price): {r.BestTestedPrice:0.00} USD, observed {r.BestTestedExpectedValue:0.000} " +
                $"per user; extrapolated: {(r.Extrapolated ? "yes" : "no")}");
            Console.WriteLine("        demand families (stacking weight, fits the data): " + string.Join(", ", r.Models.OrderByDescending(m => m.Weight)
                .Select(m => $"{m.Name} {m.Weight * 100:0}%{(m.FitsData ? "" : " (dropped)")}")));
        }

        foreach (var sentence in r.Reasoning.Concat(r.NextSteps))
        {
            Console.WriteLine("        - " + sentence);
        }

        Step(8, "usage and this month's bill from GET /v1/usage and GET /v1/billing/{month}:");
        var month = DateTimeOffset.UtcNow.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        foreach (var run in runs)
        {
            await using var sdk = Reader(run);
            var u = await sdk.GetUsageAsync(month, cancellationToken);
            var b = await sdk.GetBillAsync(month, cancellationToken);
            Console.WriteLine($"        {run.Tenant.Name,-12} {u.Events:N0} of {u.IncludedEvents:N0} included events, {u.ApiCalls:N0} API calls; " +
                $"bill {b.Total:0.00} {b.Currency} on {b.Plan}");
            Console.WriteLine($"        {"",-12} {b.Recommendation.Reason}");
        }

        var reports = Path.Combine(data, "reports");
        Step(9, $"monthly reports (HTML with charts, and numbers.csv) with po report's engine, into {reports}:");
        foreach (var run in runs)
        {
            var result = await api.Services.GetRequiredService<Reports.MonthlyReport>().WriteAsync(run.TenantId, month, reports,
                new Reports.ReportSettings(), cancellationToken);
            Console.WriteLine($"        {run.Tenant.Name,-12} {result.HtmlPath}  ({result.Charts} charts, {result.Numbers} numbers in numbers.csv)");
        }

        Step(10, "the dashboard over every experiment, from GET /v1/analytics/experiments:");
        foreach (var run in runs)
        {
            await using var sdk = Reader(run);
            foreach (var e in (await sdk.GetDashboardAsync(cancellationToken)).Experiments)
            {
                var flags = new[] { e.Health.SampleRatioMismatch ? "users not split as configured" : null,
                    e.Health.MultipleExposureHigh ? "many users in two variants" : null }.OfType<string>().ToList();
                var leader = e.LeadingChanceToBeatControl is null
                    ? "the control: every challenger more likely loses"
                    : $"chance to beat control {Figure(e.LeadingChanceToBeatControl, "0.0", 100)}%";
                Console.WriteLine($"        {run.Tenant.Name,-12} {e.ExperimentId} ({e.Status}, day " +
                    $"{e.DaysRunning?.ToString(CultureInfo.InvariantCulture) ?? "—"}): {e.Users:N0} users; leading on {e.Goal} " +
                    $"{e.LeadingVariantId ?? "—"} ({leader}); health {(flags.Count == 0 ? "ok" : string.Join(", ", flags))}; users still needed " +
                    $"for 80% power at ±5%: {e.UsersStillNeeded?.ToString("N0", CultureInfo.InvariantCulture) ?? "—"}");
            }
        }

        ok &= await AdaptiveAsync(api, acme, seed, cancellationToken);
        foreach (var run in runs)
        {
            run.Client.Dispose();
        }

        Console.WriteLine();
        Console.WriteLine(ok
            ? $"Every accepted event is in the lake exactly once. Done in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s."
            : "The lake does not match what was sent: see the rows above.");
        return ok ? 0 : 1;
    }

    /// <summary>
    /// Step 11: an adaptive experiment on the same prices. The morning's shoppers (an hour ago, the burn-in's equal
    /// split) are imported as events; one update (what the API's updater does every cadence) moves the weights toward
    /// the better prices; the afternoon's shoppers come through the SDK, which asks the API for each user's price, kept
    /// across weight versions. The readout then estimates per allocation period. True when every event landed once.
    /// </summary>
    private static async Task<bool> AdaptiveAsync(LocalIngestApi api, DemoRun acme, int seed, CancellationToken cancellationToken)
    {
        const string id = "checkout-adaptive";
        const int cohort = 2400;
        var tenant = acme.Tenant;
        var control = tenant.Variants.Select(v => v.Variant).ToList().IndexOf(ControlOf(tenant));
        await ApiSetup.CreateStartedExperimentAsync(acme.Client, id, tenant.Currency, tenant.Variants, cancellationToken, control,
            new { mode = "adaptive", cadence = "15m" });
        Step(11, $"an adaptive experiment ({id}: the same prices, weights moved by the demand model every 15 minutes after the burn-in):");
        var draws = DemoTraffic.Draws(2 * cohort, seed + 100);
        var equal = new Experiments.VariantAssigner(id, [.. tenant.Variants.Select(_ => 1.0)]);
        var morning = new List<PricingEvent>();
        var start = EventValidator.TruncateToMicroseconds(DateTimeOffset.UtcNow.AddHours(-1));
        for (var u = 0; u < cohort; u++)
        {
            var (variant, price) = tenant.Variants[equal.Assign(DemoTraffic.UserId(u))];
            var at = start.AddMilliseconds(u * 500);
            morning.Add(new PricingEvent($"a-{id}-{u}", EventType.Assign, id, variant, DemoTraffic.UserId(u), price, null, tenant.Currency, at));
            if (draws[u] < tenant.Demand.Rate((double)price))
            {
                morning.Add(new PricingEvent($"c-{id}-{u}", EventType.Convert, id, variant, DemoTraffic.UserId(u), price, null, tenant.Currency,
                    at.AddMinutes(1)));
            }
        }

        foreach (var batch in morning.Chunk(1000))
        {
            await PostEventsAsync(acme.Client, batch, cancellationToken);
        }

        var queries = api.Services.GetRequiredService<LakeQueries>();
        var morningBuyers = morning.Count(e => e.Type == EventType.Convert);
        var landed = await WaitForAsync(queries, acme.TenantId, id, cohort, morningBuyers, cancellationToken);
        Console.WriteLine($"        morning: {cohort:N0} shoppers an hour ago on the burn-in's equal split, imported with POST /v1/events " +
                          $"({landed.Conversions:N0} bought)");
        var update = await api.Services.GetRequiredService<Adaptive.AllocationService>().UpdateAsync(acme.TenantId, id, force: false, cancellationToken);
        Console.WriteLine($"        update (as the API's updater runs it each cadence; by hand: po allocate --apply): {update.Outcome}; weights " +
                          string.Join(", ", tenant.Variants.Select(v => $"{v.Price} {update.Proposal.Weights.GetValueOrDefault(v.Variant) * 100:0}%")));
        foreach (var reason in update.Proposal.Reasons)
        {
            Console.WriteLine("          - " + reason);
        }

        var shown = new Dictionary<decimal, int>();
        var bought = 0;
        await using (var sdk = new Client.PricingOptimizerClient(new Client.PricingOptimizerClientOptions { BaseAddress = acme.Client.BaseAddress,
            ApiKey = acme.ApiKey, EvaluationTimeout = DemoEvaluationTimeout }))
        {
            for (var u = cohort; u < 2 * cohort; u++)
            {
                var assigned = InExperiment(await sdk.AssignAsync(id, DemoTraffic.UserId(u), ControlPrice(tenant), cancellationToken));
                shown[assigned.Price] = shown.GetValueOrDefault(assigned.Price) + 1;
                if (draws[u] < tenant.Demand.Rate((double)assigned.Price))
                {
                    bought++;
                    await sdk.TrackConversionAsync(id, DemoTraffic.UserId(u), $"order-{id}-{u}", cancellationToken: cancellationToken);
                }
            }

            await sdk.FlushAsync(cancellationToken);
        }

        Console.WriteLine($"        afternoon: {cohort:N0} new shoppers through the SDK (the API assigns from version 1 and keeps each user's price): " +
                          string.Join(", ", shown.OrderBy(x => x.Key).Select(x => $"{x.Key} {x.Value:N0}")));
        var all = await WaitForAsync(queries, acme.TenantId, id, 2 * cohort, morningBuyers + bought, cancellationToken);
        await using var reader = Reader(acme);
        var readout = await reader.GetReadoutAsync(id, cancellationToken);
        Console.WriteLine($"        readout, per allocation period and combined with each period's share of users (sample ratio p " +
                          $"{Figure(readout.SrmPValue, "0.000")} against the weights users arrived under):");
        foreach (var v in readout.Variants.OrderBy(v => v.Price))
        {
            Console.WriteLine($"        {v.Price,7:0.00} {v.Users,6:N0} users  conv.rate {Figure(v.ConversionRate, "0.0", 100)}%  rev/user " +
                              $"{Figure(v.RevenuePerUser, "0.000")}");
        }

        using var allocation = await ApiSetup.ReadAsync(await acme.Client.GetAsync($"/v1/experiments/{id}/allocation", cancellationToken), cancellationToken);
        if (allocation.RootElement.TryGetProperty("next", out var next) && next.TryGetProperty("stopping", out var stopping)
            && stopping.ValueKind == JsonValueKind.Object)
        {
            Console.WriteLine($"        GET /v1/experiments/{id}/allocation: {stopping.GetProperty("message").GetString()}");
        }

        var ok = all.Users == 2 * cohort && all.Conversions == morningBuyers + bought;
        Console.WriteLine($"        {all.Users:N0} users and {all.Conversions:N0} buyers in the lake: {(ok ? "= sent" : "!= sent")}");
        return ok;
    }

    /// <summary>Waits (up to a minute) until the lake counts the experiment's users and buyers; what it counts then.</summary>
    private static async Task<(long Users, long Conversions)> WaitForAsync(LakeQueries queries, string tenantId, string experimentId, long users,
        long conversions, CancellationToken cancellationToken)
    {
        var wait = Stopwatch.StartNew();
        while (true)
        {
            var (variants, _) = await queries.ExperimentStatsAsync(tenantId, experimentId, cancellationToken);
            var seen = (Users: variants.Sum(v => v.Users), Conversions: variants.Sum(v => v.Conversions));
            if ((seen.Users >= users && seen.Conversions >= conversions) || wait.Elapsed > TimeSpan.FromSeconds(60))
            {
                return seen;
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    private static async Task<DemoRun> SetUpTenantAsync(Uri address, string adminKey, DemoTenant tenant, CancellationToken cancellationToken)
    {
        var (tenantId, token, apiKey) = await ApiSetup.CreateTenantAsync(address, adminKey, tenant.Name, tenant.Plan, cancellationToken);
        var client = new HttpClient { BaseAddress = address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var control = tenant.Variants.Select(v => v.Variant).ToList().IndexOf(ControlOf(tenant));
        await ApiSetup.CreateStartedExperimentAsync(client, tenant.ExperimentId, tenant.Currency, tenant.Variants, cancellationToken, control);
        return new DemoRun(tenant, tenantId, apiKey, client, 0, 0);
    }

    private static async Task<DemoRun> SimulateAsync(DemoRun run, int seed, CancellationToken cancellationToken)
    {
        var tenant = run.Tenant;
        var draws = DemoTraffic.Draws(tenant.Users, seed);
        var baskets = new Random(unchecked((seed * 31) + 7));
        var purchases = new List<PricingEvent>();
        var lost = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using (var sdk = new Client.PricingOptimizerClient(new Client.PricingOptimizerClientOptions { BaseAddress = run.Client.BaseAddress,
            ApiKey = run.ApiKey, EvaluationTimeout = DemoEvaluationTimeout }))
        {
            sdk.Rejected += r => lost.Enqueue($"{r.EventId} rejected: {r.Field} {r.Reason}");
            sdk.Failed += f => lost.Enqueue($"{f.EventId} not delivered: {f.Reason}");
            for (var u = 0; u < tenant.Users; u++)
            {
                var userId = DemoTraffic.UserId(u);
                var assigned = InExperiment(await sdk.AssignAsync(tenant.ExperimentId, userId, ControlPrice(tenant), cancellationToken));
                if (draws[u] < tenant.Demand.Rate((double)assigned.Price))
                {
                    // A shopper sometimes buys two or three (the basket's revenue is what the convert carries; its units are revenue ÷ price).
                    var k = 0;
                    foreach (var basket in tenant.Buyers.Purchases(baskets, assigned.Price))
                    {
                        var orderId = k++ == 0 ? $"order-{userId}" : $"order-{userId}-{k}";
                        var revenue = basket.Revenue == assigned.Price ? (decimal?)null : basket.Revenue;
                        await sdk.TrackConversionAsync(tenant.ExperimentId, userId, orderId, revenue, cancellationToken: cancellationToken);
                        purchases.Add(new PricingEvent(orderId, EventType.Convert, tenant.ExperimentId, assigned.VariantId, userId, assigned.Price,
                            revenue, tenant.Currency,
                            EventValidator.TruncateToMicroseconds(DateTimeOffset.UtcNow)));
                    }
                }

                if ((u + 1) % 2000 == 0 || u + 1 == tenant.Users)
                {
                    Console.WriteLine($"        {tenant.Name,-12} {u + 1,6:N0} / {tenant.Users:N0} users assigned");
                }
            }

            await sdk.FlushAsync(cancellationToken);
        }

        if (!lost.IsEmpty)
        {
            throw new InvalidOperationException($"{lost.Count} of the shoppers' events did not reach the API, e.g. {lost.First()}");
        }

        await PostEventsAsync(run.Client, purchases.Take(50).ToArray(), cancellationToken); // the retry: the same event ids
        return run with { Assigns = tenant.Users, Converts = purchases.Count };
    }

    private static async Task PostEventsAsync(HttpClient client, IReadOnlyList<PricingEvent> batch, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(EventJson.SerializeBatch(batch));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        (await ApiSetup.ReadAsync(await client.PostAsync("/v1/events", content, cancellationToken), cancellationToken)).Dispose();
    }
}
