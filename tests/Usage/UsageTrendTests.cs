using Microsoft.Extensions.Time.Testing;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Tenancy;
using PricingOptimizer.Tests.Fixtures;
using PricingOptimizer.Usage;

namespace PricingOptimizer.Tests.Usage;

/// <summary><c>GET /v1/usage/trend</c>: the month so far, its projection, when the included events run out, the projected bill.</summary>
public sealed class UsageTrendTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>Writes <paramref name="perDay"/> events on each day into a CSV and imports it into the lake.</summary>
    private static async Task ImportAsync(CsvImporter importer, string folder, IEnumerable<(DateOnly Day, int Events)> perDay)
    {
        var csv = new StringBuilder("event_id,type,experiment_id,variant_id,user_id,price,revenue,currency,occurred_at\n");
        foreach (var (day, events) in perDay)
        {
            for (var i = 0; i < events; i++)
            {
                csv.Append(CultureInfo.InvariantCulture, $"e-{day:yyyyMMdd}-{i},assign,exp,a,u{i},9.99,,USD,{day:yyyy-MM-dd}T{i % 12:00}:00:00Z\n");
            }
        }

        var path = Path.Combine(folder, Guid.NewGuid().ToString("N") + ".csv");
        await File.WriteAllTextAsync(path, csv.ToString());
        Assert.Empty((await importer.ImportAsync("shop", path, CancellationToken.None)).Errors);
    }

    [Fact]
    public async Task The_trend_projects_the_month_from_the_last_seven_days_and_finds_when_the_included_events_run_out()
    {
        // Noon on 20 November: 50 events a day on the 1st to the 12th, 100 a day on the 13th to the 19th, 30 so far today,
        // and 100 a day in late October (outside the month and the rate window: they count for neither).
        var now = new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);
        var time = new FakeTimeProvider(now);
        var lake = new LakeLayout(Path.Combine(temp.Path, "lake"));
        var importer = new CsvImporter(lake, new EventValidator(time), time);
        var november = new DateOnly(2026, 11, 1);
        await ImportAsync(importer, temp.Path, [
            .. Enumerable.Range(0, 12).Select(d => (november.AddDays(d), 50)),
            .. Enumerable.Range(12, 7).Select(d => (november.AddDays(d), 100)),
            (new DateOnly(2026, 11, 20), 30),
            .. Enumerable.Range(20, 5).Select(d => (new DateOnly(2026, 10, 1).AddDays(d), 100)),
        ]);

        var store = new SqliteControlPlaneStore("Data Source=" + Path.Combine(temp.Path, "controlplane.db"));
        await store.CreateTenantAsync(new Tenant("shop", "Shop", "free", now.AddDays(-60)), CancellationToken.None);
        var plans = new PlanOptions();
        plans.Plans["free"].IncludedEventsPerMonth = 2000; // base 0, 0.50 per started 1,000 over
        using var queries = new LakeQueries(lake);
        var usage = new UsageService(store, store, queries, new ApiCallCounter(store, time), Options.Create(plans), time);

        var trend = await new UsageTrendService(usage, queries, Options.Create(plans), time).GetAsync("shop", CancellationToken.None);

        Assert.Equal("2026-11", trend.Month);
        Assert.Equal(20, trend.Days.Count); // every day so far, quiet ones included
        Assert.Equal(12 * 50 + 7 * 100 + 30, trend.Events);
        Assert.Equal(100, trend.EventsPerDay);
        Assert.Equal(1330 + 50 + 10 * 100, trend.ProjectedEvents); // half of today and the 21st to the 30th at 100 a day
        // 1,380 by tonight, then +100 a day: 1,980 on the 26th, 2,080 on the 27th.
        Assert.Equal(new DateOnly(2026, 11, 27), trend.IncludedEventsRunOutOn);
        Assert.Equal(0.50m, trend.ProjectedBill); // 380 over: one started thousand at 0.50
    }

    [Fact]
    public async Task The_api_answers_the_trend_for_the_tenant_of_the_token()
    {
        const string admin = "trend-admin";
        using var api = new IngestApiFactory(new Dictionary<string, string?> { ["Auth:AdminKey"] = admin });
        var (tenantId, _, client) = await api.CreateTenantAsync(admin, "Shop", "starter");
        await IngestApiFactory.CreateTestExperimentAsync(client, "exp-1");
        var events = TestEvents.Mixed(30, DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json(events))).StatusCode);
        await api.LandUntilAsync(tenantId, events.Count);

        var response = await client.GetAsync("/v1/usage/trend");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        Assert.Equal(tenantId, root.GetProperty("tenant_id").GetString());
        Assert.Equal(DateTimeOffset.UtcNow.ToString("yyyy-MM", CultureInfo.InvariantCulture), root.GetProperty("month").GetString());
        var thisMonth = events.Count(e => e.OccurredAt.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture) == root.GetProperty("month").GetString());
        Assert.Equal(thisMonth, root.GetProperty("events").GetInt64());
        Assert.True(root.GetProperty("projected_events").GetInt64() >= thisMonth);
        Assert.Equal(DateTimeOffset.UtcNow.Day, root.GetProperty("days").GetArrayLength());
        client.Dispose();
    }
}
