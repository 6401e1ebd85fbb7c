using System.Text.Json;
using PricingOptimizer.Client;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Client;

/// <summary>The SDK's typed reads say what the API's JSON says, field by field, and a refusal names its status.</summary>
public sealed class ClientReadTests : IDisposable
{
    private const string Admin = "sdk-read-admin";
    private readonly IngestApiFactory api = new(new Dictionary<string, string?> { ["Auth:AdminKey"] = Admin });

    public void Dispose() => api.Dispose();

    [Fact]
    public async Task Readout_recommendation_dashboard_usage_and_bill_match_the_api_json()
    {
        var (tenantId, apiKey, client) = await api.CreateTenantAsync(Admin, "Reader", "pro");
        var body = """{"experiment_id":"plans","name":"plans","currency":"USD","variants":[{"variant_id":"low","price":8,"control":true},{"variant_id":"mid","price":10},{"variant_id":"high","price":12}]}""";
        (await client.PostAsync("/v1/experiments", IngestApiFactory.Json(body))).EnsureSuccessStatusCode();
        (await client.PostAsync("/v1/experiments/plans/start", null)).EnsureSuccessStatusCode();

        var users = 900;
        await using (var sdk = new PricingOptimizerClient(new PricingOptimizerClientOptions { ApiKey = apiKey, FlushInterval = TimeSpan.FromMilliseconds(50), EvaluationTimeout = TimeSpan.FromSeconds(60) },
                         api.CreateDefaultClient()))
        {
            var random = new Random(7);
            for (var i = 0; i < users; i++)
            {
                var assigned = await sdk.AssignAsync("plans", $"u{i}", 0m);
                // Demand falling with price: 40% at 8, 30% at 10, 20% at 12; some buyers take two.
                if (random.NextDouble() < 0.4 - ((double)assigned.Price - 8) * 0.05)
                {
                    await sdk.TrackConversionAsync("plans", $"u{i}", $"o{i}", random.NextDouble() < 0.2 ? assigned.Price * 2 : null);
                }
            }

            await sdk.FlushAsync();
        }

        await api.LandUntilAsync(tenantId, users);
        await using var reader = new PricingOptimizerClient(new PricingOptimizerClientOptions { ApiKey = apiKey }, api.CreateDefaultClient());

        var readout = await reader.GetReadoutAsync("plans");
        using (var json = JsonDocument.Parse(await client.GetStringAsync("/v1/experiments/plans/readout")))
        {
            Assert.Equal(json.RootElement.GetProperty("control_variant_id").GetString(), readout.ControlVariantId);
            var variants = json.RootElement.GetProperty("variants").EnumerateArray().ToList();
            Assert.Equal(variants.Count, readout.Variants.Count);
            foreach (var (typed, raw) in readout.Variants.Zip(variants))
            {
                Assert.Equal(raw.GetProperty("variant_id").GetString(), typed.VariantId);
                Assert.Equal(raw.GetProperty("users").GetInt64(), typed.Users);
                Assert.Equal(raw.GetProperty("conversions").GetInt64(), typed.Conversions);
                Assert.Equal(raw.GetProperty("revenue").GetDecimal(), typed.Revenue);
                Assert.Equal(Number(raw, "revenue_per_user"), typed.RevenuePerUser);
                Assert.Equal(Number(raw, "lift"), typed.Lift);
                Assert.Equal(Number(raw, "sequential_p_value"), typed.SequentialPValue);
            }

            Assert.Equal(users, readout.Variants.Sum(v => v.Users));
            Assert.Null(readout.Variants.Single(v => v.VariantId == "low").Lift); // the control has no lift over itself
        }

        var recommendation = await reader.GetRecommendationAsync("plans", "revenue");
        using (var json = JsonDocument.Parse(await client.GetStringAsync("/v1/experiments/plans/recommendation?goal=revenue")))
        {
            var r = json.RootElement;
            Assert.Equal(r.GetProperty("status").GetString(), recommendation.Status);
            Assert.Equal("revenue", recommendation.Goal);
            Assert.Equal(r.GetProperty("reasoning").EnumerateArray().Select(e => e.GetString()), recommendation.Reasoning);
            Assert.Equal(r.GetProperty("models").GetArrayLength(), recommendation.Models.Count);
            if (recommendation.Status == "ok")
            {
                Assert.Equal(r.GetProperty("recommended_price").GetDecimal(), recommendation.RecommendedPrice);
                Assert.Equal(r.GetProperty("expected_value").GetDouble(), recommendation.ExpectedValue);
                Assert.Equal(r.GetProperty("confidence").GetDouble(), recommendation.Confidence);
                Assert.InRange(recommendation.Models.Sum(m => m.Weight), 0.999, 1.001);
            }
        }

        var dashboard = await reader.GetDashboardAsync();
        var row = Assert.Single(dashboard.Experiments);
        Assert.Equal(("plans", "active", users), (row.ExperimentId, row.Status, row.Users));
        Assert.Equal(tenantId, dashboard.TenantId);

        var month = DateTimeOffset.UtcNow.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
        var usage = await reader.GetUsageAsync(month);
        var bill = await reader.GetBillAsync(month);
        using (var json = JsonDocument.Parse(await client.GetStringAsync($"/v1/billing/{month}")))
        {
            Assert.Equal(json.RootElement.GetProperty("total").GetDecimal(), bill.Total);
            Assert.Equal(json.RootElement.GetProperty("currency").GetString(), bill.Currency);
            // The reason counts the busiest minute, which these very reads move: it names the plan it advises.
            Assert.Contains(json.RootElement.GetProperty("recommendation").GetProperty("plan").GetString()!, bill.Recommendation.Reason,
                StringComparison.Ordinal);
        }

        Assert.Equal(("pro", "pro"), (usage.Plan, bill.Plan));
        Assert.Equal(usage.Events, bill.Events);
        Assert.True(usage.Events >= users, $"{usage.Events} events counted for {users} assigned users");
    }

    [Fact]
    public async Task A_read_of_an_unknown_experiment_names_the_status_and_the_apis_reason()
    {
        var (_, apiKey, _) = await api.CreateTenantAsync(Admin, "Reader", "pro");
        await using var reader = new PricingOptimizerClient(new PricingOptimizerClientOptions { ApiKey = apiKey }, api.CreateDefaultClient());

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => reader.GetReadoutAsync("nope"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Contains("nope", refused.Message, StringComparison.Ordinal);
    }

    private static double? Number(JsonElement e, string name) => e.GetProperty(name).ValueKind == JsonValueKind.Null ? null : e.GetProperty(name).GetDouble();
}
