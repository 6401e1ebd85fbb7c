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
    public void A_bad_setting_stops_the_api_at_start_naming_it(string key, string value, string message)
    {
        using var api = new IngestApiFactory(new Dictionary<string, string?> { [key] = value });
        var error = Assert.ThrowsAny<OptionsValidationException>(() => api.CreateClient());
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
