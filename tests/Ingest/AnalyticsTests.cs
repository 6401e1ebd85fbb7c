using System.Net;
using System.Text.Json;
using PricingOptimizer.Statistics;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Ingest;

/// <summary><c>GET /v1/analytics/experiments</c>: the dashboard a client would otherwise build from one readout per experiment.</summary>
public sealed class AnalyticsTests : IDisposable
{
    private const string AdminKey = "analytics-admin";
    private readonly IngestApiFactory api = new(new Dictionary<string, string?> { ["Auth:AdminKey"] = AdminKey });

    public void Dispose() => api.Dispose();

    [Fact]
    public async Task The_dashboard_shows_every_experiment_with_its_figures_health_and_users_still_needed()
    {
        var (tenantId, _, client) = await api.CreateTenantAsync(AdminKey, "Shop", "pro");
        await IngestApiFactory.CreateTestExperimentAsync(client, "exp-1", start: true);
        await IngestApiFactory.CreateTestExperimentAsync(client, "exp-2");
        var now = DateTimeOffset.UtcNow;
        // 600 users: even ones see the control, odd ones the charm price; every third buys (100 in each variant).
        var events = TestEvents.Mixed(600, now);
        foreach (var batch in events.Chunk(500))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json(batch))).StatusCode);
        }

        await api.LandUntilAsync(tenantId, events.Count);

        var response = await client.GetAsync("/v1/analytics/experiments");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var experiments = json.RootElement.GetProperty("experiments").EnumerateArray().ToDictionary(e => e.GetProperty("experiment_id").GetString()!);
        Assert.Equal(2, experiments.Count);

        var running = experiments["exp-1"];
        Assert.Equal("active", running.GetProperty("status").GetString());
        Assert.Equal(600, running.GetProperty("users").GetInt64());
        var variants = running.GetProperty("variants").EnumerateArray().ToDictionary(v => v.GetProperty("variant_id").GetString()!);
        Assert.Equal((300, 100), (variants["control"].GetProperty("users").GetInt64(), variants["control"].GetProperty("conversions").GetInt64()));
        Assert.Equal((300, 100), (variants["charm"].GetProperty("users").GetInt64(), variants["charm"].GetProperty("conversions").GetInt64()));
        // The first assign was user 599's, 599 minutes before now.
        var first = events.Where(e => e.Type == PricingOptimizer.Events.EventType.Assign).Min(e => e.OccurredAt);
        Assert.Equal(DateOnly.FromDateTime(first.UtcDateTime).ToString("yyyy-MM-dd"), running.GetProperty("start_date").GetString());
        Assert.Equal((int)Math.Floor((DateTimeOffset.UtcNow - first).TotalDays), running.GetProperty("days_running").GetInt32());

        // The leading variant and its chance are the readout's, on the experiment's goal: revenue per user unless it says otherwise.
        using var readout = JsonDocument.Parse(await client.GetStringAsync("/v1/experiments/exp-1/readout"));
        var charm = readout.RootElement.GetProperty("variants").EnumerateArray().Single(v => v.GetProperty("variant_id").GetString() == "charm");
        void ExpectLeader(JsonElement row, string field)
        {
            var chance = charm.GetProperty(field).GetDouble();
            if (chance >= 0.5)
            {
                Assert.Equal("charm", row.GetProperty("leading_variant_id").GetString());
                Assert.Equal(chance, row.GetProperty("leading_chance_to_beat_control").GetDouble(), 12);
            }
            else
            {
                Assert.Equal("control", row.GetProperty("leading_variant_id").GetString());
                Assert.Equal(JsonValueKind.Null, row.GetProperty("leading_chance_to_beat_control").ValueKind);
            }
        }

        Assert.Equal("revenue", running.GetProperty("goal").GetString());
        ExpectLeader(running, "revenue_chance_to_beat_control");
        // The same test decided on conversions: the leader follows the conversion rate's chance instead.
        var put = await client.PutAsync("/v1/experiments/exp-1", IngestApiFactory.Json("{\"goal\":\"conversions\"}"));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PutAsync("/v1/experiments/exp-1", IngestApiFactory.Json("{\"goal\":\"profit\"}"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PutAsync("/v1/experiments/exp-1", IngestApiFactory.Json("{\"goal\":\"margin\"}"))).StatusCode);
        using (var conversions = JsonDocument.Parse(await client.GetStringAsync("/v1/analytics/experiments")))
        {
            var row = conversions.RootElement.GetProperty("experiments").EnumerateArray().Single(e => e.GetProperty("experiment_id").GetString() == "exp-1");
            Assert.Equal("conversions", row.GetProperty("goal").GetString());
            ExpectLeader(row, "chance_to_beat_control");
        }

        var health = running.GetProperty("health");
        Assert.False(health.GetProperty("sample_ratio_mismatch").GetBoolean()); // 300 against 300
        Assert.Equal(0, health.GetProperty("multiple_exposure_users").GetInt64());
        // 80% power for +5% on a third: the textbook two-proportion formula, less the 300 each variant has, for two variants.
        var needed = (Power.UsersPerVariant(1.0 / 3, 1.0 / 3 * 1.05) - 300) * 2;
        Assert.Equal(needed, running.GetProperty("users_still_needed").GetInt64());

        var draft = experiments["exp-2"];
        Assert.Equal("draft", draft.GetProperty("status").GetString());
        Assert.Equal(0, draft.GetProperty("users").GetInt64());
        Assert.Equal(JsonValueKind.Null, draft.GetProperty("start_date").ValueKind);
        Assert.Equal(JsonValueKind.Null, draft.GetProperty("users_still_needed").ValueKind);

        // Another tenant sees none of it; a bad effect size is 400 naming it.
        var (_, _, other) = await api.CreateTenantAsync(AdminKey, "Other", "pro");
        using (other)
        {
            using var empty = JsonDocument.Parse(await other.GetStringAsync("/v1/analytics/experiments"));
            Assert.Equal(0, empty.RootElement.GetProperty("experiments").GetArrayLength());
        }

        // Side by side: the same rows as the dashboard, with prices and a recommendation (or why there is none).
        using (var compared = JsonDocument.Parse(await client.GetStringAsync("/v1/analytics/compare?experiments=exp-1,exp-2")))
        {
            var rows = compared.RootElement.GetProperty("experiments").EnumerateArray().ToList();
            Assert.Equal(["exp-1", "exp-2"], rows.Select(r => r.GetProperty("experiment").GetProperty("experiment_id").GetString()));
            Assert.Equal("revenue", compared.RootElement.GetProperty("goal").GetString());
            Assert.Equal(running.GetProperty("users").GetInt64(), rows[0].GetProperty("experiment").GetProperty("users").GetInt64());
            Assert.Equal([9.99m, 8.99m], rows[0].GetProperty("prices").EnumerateArray().Select(p => p.GetProperty("price").GetDecimal()));
            // Two prices and no users in exp-2: no recommendation, and it says why.
            Assert.False(string.IsNullOrWhiteSpace(rows[1].GetProperty("no_recommendation_reason").GetString()));
        }

        foreach (var (query, field) in new[] { ("", "experiments"), ("?experiments=exp-1,exp-1", "experiments"),
            ("?experiments=exp-1&goal=profit", "unit_cost") })
        {
            var refused = await client.GetAsync("/v1/analytics/compare" + query);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal(field, JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("field").GetString());
        }

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/analytics/compare?experiments=exp-1,nope")).StatusCode);

        foreach (var bad in new[] { "abc", "0", "-1", "NaN", "11" })
        {
            var refused = await client.GetAsync("/v1/analytics/experiments?mde=" + bad);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Equal("mde", problem.RootElement.GetProperty("field").GetString());
        }
    }

    [Fact]
    public async Task The_timeseries_accumulates_day_by_day_and_its_last_day_is_the_readout()
    {
        var (tenantId, _, client) = await api.CreateTenantAsync(AdminKey, "Shop", "pro");
        await IngestApiFactory.CreateTestExperimentAsync(client, "exp-1", start: true);
        var now = PricingOptimizer.Events.EventValidator.TruncateToMicroseconds(DateTimeOffset.UtcNow);
        // 400 users over 400 hours (about 17 days); every third buys an hour later, every fourth of those again a day later.
        var events = new List<PricingOptimizer.Events.PricingEvent>();
        for (var i = 0; i < 400; i++)
        {
            var assign = TestEvents.Assign(i, now) with { OccurredAt = now.AddHours(-i - 30) };
            events.Add(assign);
            if (i % 3 == 1)
            {
                events.Add(TestEvents.Convert(i, now) with { OccurredAt = assign.OccurredAt.AddHours(1) });
                if (i % 4 == 1)
                {
                    events.Add(TestEvents.Convert(i, now) with { EventId = $"again-{i}", Revenue = 5m, OccurredAt = assign.OccurredAt.AddDays(1) });
                }
            }
        }

        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json(events))).StatusCode);
        await api.LandUntilAsync(tenantId, events.Count);

        using var readout = JsonDocument.Parse(await client.GetStringAsync("/v1/experiments/exp-1/readout"));
        var charm = readout.RootElement.GetProperty("variants").EnumerateArray().Single(v => v.GetProperty("variant_id").GetString() == "charm");
        foreach (var (metric, lift, ci, cs) in new[]
                 {
                     ("conversion_rate", "lift", "lift_ci", "difference_cs"), ("revenue_per_user", "revenue_lift", "revenue_lift_ci", "revenue_difference_cs"),
                 })
        {
            using var json = JsonDocument.Parse(await client.GetStringAsync($"/v1/analytics/experiments/exp-1/timeseries?metric={metric}"));
            var days = json.RootElement.GetProperty("days").EnumerateArray().ToList();
            var expectedDays = events.Select(e => DateOnly.FromDateTime(e.OccurredAt.UtcDateTime)).Distinct().Count();
            Assert.Equal(expectedDays, days.Count);
            var users = days.Select(d => d.GetProperty("variants").EnumerateArray().Sum(v => v.GetProperty("users").GetInt64())).ToList();
            Assert.Equal(users.Order(), users); // cumulative
            Assert.Equal(400, users[^1]);

            var last = days[^1].GetProperty("variants").EnumerateArray().Single(v => v.GetProperty("variant_id").GetString() == "charm");
            Assert.Equal(charm.GetProperty(lift).GetDouble(), last.GetProperty("lift").GetDouble(), 9);
            for (var k = 0; k < 2; k++)
            {
                Assert.Equal(charm.GetProperty(ci)[k].GetDouble(), last.GetProperty("lift_ci")[k].GetDouble(), 9);
                Assert.Equal(charm.GetProperty(cs)[k].GetDouble(), last.GetProperty("difference_cs")[k].GetDouble(), 9);
            }
        }

        var bad = await client.GetAsync("/v1/analytics/experiments/exp-1/timeseries?metric=revenue");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("metric", JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/analytics/experiments/nope/timeseries")).StatusCode);
        client.Dispose();
    }
}
