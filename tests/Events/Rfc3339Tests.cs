using PricingOptimizer.Events;

namespace PricingOptimizer.Tests.Events;

public sealed class Rfc3339Tests
{
    [Theory]
    [InlineData("2026-11-25T12:00:00Z", "2026-11-25T12:00:00.0000000+00:00")]
    [InlineData("2026-11-25t12:00:00z", "2026-11-25T12:00:00.0000000+00:00")]
    [InlineData("2026-11-25 12:00:00.5+01:30", "2026-11-25T12:00:00.5000000+01:30")]
    [InlineData("2026-11-25T12:00:00.123456789-05:00", "2026-11-25T12:00:00.1234567-05:00")]
    [InlineData("2024-02-29T23:59:60Z", "2024-02-29T23:59:59.9999999+00:00")]
    public void Valid_timestamps_parse_to_the_same_instant(string text, string expected)
    {
        Assert.True(Rfc3339.TryParse(text, out var value));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), value);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture).Offset, value.Offset);
    }

    [Theory]
    [InlineData("2026-11-25T12:00:00")]
    [InlineData("2026-11-25")]
    [InlineData("2026-02-29T12:00:00Z")]
    [InlineData("2026-13-01T12:00:00Z")]
    [InlineData("2026-11-25T24:00:00Z")]
    [InlineData("2026-11-25T12:00:00.Z")]
    [InlineData("2026-11-25T12:00:00+0100")]
    [InlineData("2026-11-25T12:00:00Z ")]
    [InlineData("20261125T120000Z")]
    [InlineData("")]
    public void Malformed_timestamps_are_refused(string text) => Assert.False(Rfc3339.TryParse(text, out _));
}
