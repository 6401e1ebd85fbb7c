using System.Net;
using System.Text.Json;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Usage;

public abstract class UsageAndBillingTests(ControlPlaneKind store) : IDisposable
{
    private const string AdminKey = "usage-admin";
    private readonly IngestApiFactory api = new(ControlPlaneStores.With(store, new Dictionary<string, string?>
    {
        ["Auth:AdminKey"] = AdminKey,
        ["Plans:free:IncludedEventsPerMonth"] = "100",
    }));

    [Fact]
    public async Task Usage_counts_events_from_the_lake_and_api_calls_and_warns_at_80_and_100_percent()
    {
        var (tenantId, _, client) = await api.CreateTenantAsync(AdminKey, "Small shop", "free");
        await IngestApiFactory.CreateTestExperimentAsync(client);
        var now = DateTimeOffset.UtcNow;
        var month = now.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
        var events = Enumerable.Range(0, 85).Select(i => TestEvents.Assign(i, now) with { OccurredAt = now.AddSeconds(-i) }).ToList();
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json(events))).StatusCode);
        Assert.Equal(85, await api.LandUntilAsync(tenantId, 85));

        var usage = await IngestApiFactory.ReadJsonAsync(await client.GetAsync($"/v1/usage?month={month}"));
        Assert.Equal(85, usage.GetProperty("events").GetInt64());
        Assert.Equal(100, usage.GetProperty("included_events").GetInt64());
        Assert.Equal(85.0, usage.GetProperty("percent_of_included_events").GetDouble());
        Assert.Equal(60, usage.GetProperty("requests_per_minute").GetInt32());
        Assert.Equal(3, usage.GetProperty("api_calls").GetInt64()); // creating the experiment, the POST and this GET
        Assert.Equal(85, usage.GetProperty("days").EnumerateArray().Sum(d => d.GetProperty("events").GetInt64()));
        Assert.Contains("85%", usage.GetProperty("warnings")[0].GetString(), StringComparison.Ordinal);

        var next = await client.GetAsync("/v1/experiments");
        Assert.Contains("85%", next.Headers.GetValues("X-Usage-Warning").Single(), StringComparison.Ordinal);

        var more = Enumerable.Range(100, 30).Select(i => TestEvents.Assign(i, now) with { OccurredAt = now.AddSeconds(-i) }).ToList();
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json(more))).StatusCode);
        Assert.Equal(115, await api.LandUntilAsync(tenantId, 115));
        var over = await IngestApiFactory.ReadJsonAsync(await client.GetAsync($"/v1/usage?month={month}"));
        Assert.Contains("over the 100 included", over.GetProperty("warnings")[0].GetString(), StringComparison.Ordinal);

        var bill = await IngestApiFactory.ReadJsonAsync(await client.GetAsync($"/v1/billing/{month}"));
        Assert.Equal(115, bill.GetProperty("events").GetInt64());
        Assert.Equal(15, bill.GetProperty("overage_events").GetInt64());
        Assert.Equal(0.50m, bill.GetProperty("overage_charge").GetDecimal()); // one started 1,000 at 0.50
        Assert.Equal(0.50m, bill.GetProperty("total").GetDecimal());
        Assert.Equal("free", bill.GetProperty("recommendation").GetProperty("plan").GetString());
        Assert.Equal(0m, bill.GetProperty("recommendation").GetProperty("savings").GetDecimal());
    }

    [Fact]
    public async Task The_plan_recommendation_is_the_cheapest_plan_for_the_usage_with_its_figures()
    {
        var (tenantId, _, client) = await api.CreateTenantAsync(AdminKey, "Overpaying", "pro");
        await IngestApiFactory.CreateTestExperimentAsync(client);
        var now = DateTimeOffset.UtcNow;
        var month = now.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
        var events = Enumerable.Range(0, 40).Select(i => TestEvents.Assign(i, now) with { OccurredAt = now.AddSeconds(-i) }).ToList();
        await client.PostAsync("/v1/events", IngestApiFactory.Json(events));
        Assert.Equal(40, await api.LandUntilAsync(tenantId, 40));

        var bill = await IngestApiFactory.ReadJsonAsync(await client.GetAsync($"/v1/billing/{month}"));
        Assert.Equal(199m, bill.GetProperty("total").GetDecimal());
        var recommendation = bill.GetProperty("recommendation");
        Assert.Equal("free", recommendation.GetProperty("plan").GetString());
        Assert.Equal(0m, recommendation.GetProperty("total").GetDecimal());
        Assert.Equal(199m, recommendation.GetProperty("savings").GetDecimal());
        Assert.Contains("would have cost", recommendation.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var byPlan = recommendation.GetProperty("by_plan").EnumerateArray().ToDictionary(p => p.GetProperty("plan").GetString()!,
            p => p.GetProperty("total").GetDecimal());
        Assert.Equal(new Dictionary<string, decimal> { ["free"] = 0m, ["starter"] = 49m, ["pro"] = 199m, ["enterprise"] = 999m }, byPlan);
    }

    [Fact]
    public async Task A_plan_too_small_for_the_busiest_minute_is_not_recommended()
    {
        var (_, _, client) = await api.CreateTenantAsync(AdminKey, "Busy", "pro");
        for (var i = 0; i < 70; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/experiments")).StatusCode);
        }

        var month = DateTimeOffset.UtcNow.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
        var usage = await IngestApiFactory.ReadJsonAsync(await client.GetAsync($"/v1/usage?month={month}"));
        Assert.InRange(usage.GetProperty("peak_requests_per_minute").GetInt64(), 36, 72); // the 70 may straddle a minute boundary
        var bill = await IngestApiFactory.ReadJsonAsync(await client.GetAsync($"/v1/billing/{month}"));
        var recommendation = bill.GetProperty("recommendation");
        var expected = usage.GetProperty("peak_requests_per_minute").GetInt64() > 60 ? "starter" : "free";
        Assert.Equal(expected, recommendation.GetProperty("plan").GetString());
        Assert.Contains("requests in a minute", recommendation.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_month_is_400()
    {
        var (_, _, client) = await api.CreateTenantAsync(AdminKey, "Typo", "free");
        var problem = await IngestApiFactory.ReadJsonAsync(await client.GetAsync("/v1/billing/2026-13"), HttpStatusCode.BadRequest);
        Assert.Equal("month", problem.GetProperty("field").GetString());
    }

    public void Dispose() => api.Dispose();
}

public sealed class UsageAndBillingTestsOnSqlite() : UsageAndBillingTests(ControlPlaneKind.Sqlite);

public sealed class UsageAndBillingTestsOnPostgres() : UsageAndBillingTests(ControlPlaneKind.Postgres);
