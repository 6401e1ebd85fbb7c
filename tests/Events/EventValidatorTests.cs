using Microsoft.Extensions.Time.Testing;
using System.Text.Json;
using PricingOptimizer.Events;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Events;

public sealed class EventValidatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private readonly EventValidator validator = new(new FakeTimeProvider(Now));

    private const string Valid = """
        {"event_id":"e1","type":"convert","experiment_id":"exp","variant_id":"v","user_id":"u","price":9.99,
         "revenue":19.98,"currency":"USD","occurred_at":"2026-11-25T11:00:00.1234567+01:00","properties":{"k":"v"}}
        """;

    private (PricingEvent? Event, List<EventError> Errors) Check(string json, EventSource source = EventSource.Http)
    {
        using var document = JsonDocument.Parse(json);
        var errors = new List<EventError>();
        return (validator.Validate(EventJson.ReadRaw(document.RootElement), source, errors), errors);
    }

    private static string With(string field, string jsonValue)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Valid)!.AsObject();
        if (jsonValue == "<absent>")
        {
            node.Remove(field);
        }
        else
        {
            node[field] = System.Text.Json.Nodes.JsonNode.Parse(jsonValue);
        }

        return node.ToJsonString();
    }

    [Fact]
    public void A_valid_event_keeps_every_field_with_money_as_decimal_and_time_in_utc()
    {
        var (e, errors) = Check(Valid);
        Assert.Empty(errors);
        Assert.NotNull(e);
        Assert.Equal(EventType.Convert, e.Type);
        Assert.Equal(9.99m, e.Price);
        Assert.Equal(19.98m, e.Revenue);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero).AddTicks(1234560), e.OccurredAt);
        Assert.Equal(TimeSpan.Zero, e.OccurredAt.Offset);
        Assert.Equal("v", e.Properties!["k"]);
    }

    [Theory]
    [InlineData("event_id", "<absent>", "is required")]
    [InlineData("event_id", "\"\"", "is required")]
    [InlineData("event_id", "12", "must be a string")]
    [InlineData("type", "\"view\"", "must be 'assign' or 'convert'")]
    [InlineData("experiment_id", "<absent>", "is required")]
    [InlineData("variant_id", "null", "is required")]
    [InlineData("user_id", "\"bad\\u0001id\"", "must not contain control characters")]
    [InlineData("price", "-1", "must be >= 0")]
    [InlineData("price", "\"abc\"", "must be a decimal number")]
    [InlineData("price", "1.23456", "must have at most 4 decimal places")]
    [InlineData("price", "1e20", "must be at most")]
    [InlineData("price", "true", "must be a decimal number")]
    [InlineData("revenue", "-0.01", "must be >= 0")]
    [InlineData("currency", "\"usd\"", "ISO 4217")]
    [InlineData("currency", "\"XXY\"", "ISO 4217")]
    [InlineData("occurred_at", "\"2026-11-25 11:00\"", "RFC 3339")]
    [InlineData("occurred_at", "\"2026-11-25T11:00:00\"", "RFC 3339")]
    [InlineData("occurred_at", "\"2026-11-25T12:06:00Z\"", "future")]
    [InlineData("occurred_at", "\"2026-10-01T00:00:00Z\"", "older than 35 days")]
    [InlineData("properties", "[1]", "must be an object")]
    public void A_broken_rule_names_the_field_and_the_rule(string field, string value, string rule)
    {
        var (e, errors) = Check(With(field, value));
        Assert.Null(e);
        var error = Assert.Single(errors);
        Assert.Equal(field, error.Field);
        Assert.Contains(rule, error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Too_long_ids_are_rejected_at_their_limits()
    {
        Assert.Null(Check(With("event_id", $"\"{new string('e', 129)}\"")).Event);
        Assert.NotNull(Check(With("event_id", $"\"{new string('e', 128)}\"")).Event);
        Assert.Null(Check(With("user_id", $"\"{new string('u', 257)}\"")).Event);
        Assert.NotNull(Check(With("user_id", $"\"{new string('u', 256)}\"")).Event);
    }

    [Fact]
    public void Revenue_on_an_assign_is_rejected_and_defaults_to_price_on_a_convert()
    {
        var onAssign = Check(With("type", "\"assign\""));
        Assert.Equal("revenue", Assert.Single(onAssign.Errors).Field);

        var convert = Check(With("revenue", "<absent>")).Event!;
        Assert.Null(convert.Revenue);
        Assert.Equal(9.99m, convert.EffectiveRevenue);
    }

    [Fact]
    public void Old_events_are_refused_over_http_but_taken_by_import()
    {
        var old = With("occurred_at", "\"2020-01-01T00:00:00Z\"");
        Assert.Null(Check(old, EventSource.Http).Event);
        Assert.NotNull(Check(old, EventSource.Import).Event);
    }

    [Fact]
    public void Properties_are_bounded_in_count_and_size()
    {
        var many = "{" + string.Join(",", Enumerable.Range(0, 33).Select(i => $"\"k{i}\":\"v\"")) + "}";
        Assert.Contains("at most 32", Assert.Single(Check(With("properties", many)).Errors).Reason, StringComparison.Ordinal);
        var big = $"{{\"k\":\"{new string('v', 513)}\"}}";
        Assert.Equal("properties.k", Assert.Single(Check(With("properties", big)).Errors).Field);
    }

    [Fact]
    public void Every_broken_rule_of_one_event_is_reported()
    {
        var (e, errors) = Check("""{"type":"x","price":-1}""");
        Assert.Null(e);
        Assert.Equal(["event_id", "type", "experiment_id", "variant_id", "user_id", "price", "currency", "occurred_at"],
            errors.Select(x => x.Field).ToArray());
    }
}
