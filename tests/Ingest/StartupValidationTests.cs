using Microsoft.Extensions.Options;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Ingest;

public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("Auth:SigningKey", "not base64!", "must be base64")]
    [InlineData("Auth:SigningKey", "c2hvcnQ=", "at least 32 bytes")]
    [InlineData("Lander:BatchSize", "0", "BatchSize")]
    [InlineData("Kafka:Topic", "bad topic", "legal Kafka topic")]
    [InlineData("KeyManager:MasterKey", "not base64!", "not valid base64")]
    [InlineData("KeyManager:MasterKey", "c2hvcnQ=", "exactly 32 bytes")]
    [InlineData("Plans:free:RequestsPerMinute", "0", "Plans:free")]
    [InlineData("Statistics:RevenueCapPercentile", "99", "RevenueCapPercentile")]
    [InlineData("Statistics:SequentialTuning", "0", "SequentialTuning")]
    [InlineData("Statistics:CupedLookbackDays", "0", "CupedLookbackDays")]
    [InlineData("Compaction:TargetFileMb", "0", "TargetFileMb")]
    public void A_bad_setting_stops_the_api_at_start_naming_it(string key, string value, string message)
    {
        using var api = new IngestApiFactory(new Dictionary<string, string?> { [key] = value });
        var error = Assert.ThrowsAny<OptionsValidationException>(() => api.CreateClient());
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void One_plan_setting_changes_that_plan_and_keeps_the_others()
    {
        using var api = new IngestApiFactory(new Dictionary<string,
            string?> { ["Plans:free:RequestsPerMinute"] = "30", ["Plans:team:RequestsPerMinute"] = "500" });
        var plans = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<IOptions<PricingOptimizer.Tenancy.PlanOptions>>(api.Services).Value;
        Assert.Equal(30, plans.Get("free").RequestsPerMinute);
        Assert.Equal(10_000, plans.Get("free").IncludedEventsPerMonth);
        Assert.Equal(1000, plans.Get("pro").RequestsPerMinute);
        Assert.Equal(500, plans.Get("team").RequestsPerMinute);
    }
}
