using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Xunit;
using PricingOptimizer.Events;

namespace PricingOptimizer.Tests.Hostile;

/// <summary>
/// Random JSON and random strings thrown at the event parser (what <c>POST /v1/events</c> and the SDK's batches go
/// through): no exception escapes but the JSON reader's own for text that is not JSON, and nothing invalid is accepted.
/// Fixed seeds, so a failure replays.
/// </summary>
public sealed class EventParserProperties
{
    private static readonly EventValidator Validator = new(TimeProvider.System);

    private static readonly string[] Fields = ["event_id", "type", "experiment_id", "variant_id", "user_id", "price", "revenue", "currency",
        "occurred_at", "properties"];

    /// <summary>The events API's reading of a body: accepted events, or null when the body is not JSON at all (a 400 naming <c>body</c>).</summary>
    private static List<PricingEvent>? Ingest(byte[] body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException)
        {
            return null;
        }

        using (document)
        {
            var accepted = new List<PricingEvent>();
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("events", out var events) ||
                events.ValueKind != JsonValueKind.Array)
            {
                return accepted;
            }

            foreach (var element in events.EnumerateArray())
            {
                var errors = new List<EventError>();
                if (Validator.Validate(EventJson.ReadRaw(element), EventSource.Http, errors) is { } e)
                {
                    Assert.Empty(errors);
                    accepted.Add(e);
                }
                else
                {
                    Assert.NotEmpty(errors); // a refusal always names a field and a rule
                    Assert.All(errors, x => Assert.False(string.IsNullOrEmpty(x.Field) || string.IsNullOrEmpty(x.Reason)));
                }
            }

            return accepted;
        }
    }

    /// <summary>What every accepted event must be, whatever came in.</summary>
    private static void AssertValid(PricingEvent e)
    {
        Assert.Null(EventRules.IdProblem(e.EventId, EventRules.MaxEventIdLength));
        Assert.Null(EventRules.IdProblem(e.ExperimentId, EventRules.MaxIdLength));
        Assert.Null(EventRules.IdProblem(e.VariantId, EventRules.MaxIdLength));
        Assert.Null(EventRules.IdProblem(e.UserId, EventRules.MaxUserIdLength));
        Assert.InRange(e.Price, 0m, EventRules.MaxMoney);
        Assert.Equal(e.Price, decimal.Round(e.Price, EventRules.MoneyScale));
        if (e.Revenue is { } revenue)
        {
            Assert.InRange(revenue, 0m, EventRules.MaxMoney);
            Assert.Equal(revenue, decimal.Round(revenue, EventRules.MoneyScale));
        }

        Assert.True(Currencies.IsIso4217(e.Currency), e.Currency);
        Assert.InRange(e.OccurredAt, DateTimeOffset.UtcNow - EventRules.MaxHttpAge - TimeSpan.FromMinutes(1), DateTimeOffset.UtcNow + EventRules.MaxFutureSkew);
        if (e.Properties is { } properties)
        {
            Assert.InRange(properties.Count, 1, EventRules.MaxProperties);
            Assert.All(properties, kv =>
            {
                Assert.InRange(kv.Key.Length, 1, EventRules.MaxPropertyKeyLength);
                Assert.InRange(kv.Value.Length, 0, EventRules.MaxPropertyValueLength);
                Assert.True(EventRules.IsValidUtf16(kv.Key) && EventRules.IsValidUtf16(kv.Value));
            });
        }
    }

    private static string GoodEvent(string? field = null, string? json = null)
    {
        var fields = new Dictionary<string, string>
        {
            ["event_id"] = "\"e-1\"", ["type"] = "\"convert\"", ["experiment_id"] = "\"exp-1\"", ["variant_id"] = "\"control\"", ["user_id"] = "\"u-1\"",
            ["price"] = "9.99", ["revenue"] = "19.98", ["currency"] = "\"USD\"",
            ["occurred_at"] = $"\"{DateTimeOffset.UtcNow.AddMinutes(-3):yyyy-MM-dd'T'HH:mm:ss'Z'}\"", ["properties"] = "{\"channel\":\"web\"}",
        };
        if (field is not null)
        {
            fields[field] = json!;
        }

        return "{" + string.Join(",", fields.Select(kv => $"\"{kv.Key}\":{kv.Value}")) + "}";
    }

    [Property(Replay = "(20261126,1)", MaxTest = 500)]
    public void Random_bytes_never_escape_the_parser(byte[] body)
    {
        foreach (var e in Ingest(body) ?? [])
        {
            AssertValid(e);
        }
    }

    [Property(Replay = "(20261126,3)", MaxTest = 1000)]
    public void A_random_string_in_any_field_is_refused_or_valid(string? value, NonNegativeInt field, bool raw)
    {
        var name = Fields[field.Get % Fields.Length];
        // Escaped by the serializer (lone surrogates become \uD800 escapes, as JavaScript writes them), or pasted raw.
        var json = raw ? value ?? "" : JsonSerializer.Serialize(value);
        var body = Encoding.UTF8.GetBytes($"{{\"events\":[{GoodEvent()},{GoodEvent(name, json)}]}}");
        var accepted = Ingest(body);
        if (accepted is null)
        {
            return; // not JSON at all: the whole body is refused, naming it
        }

        Assert.Contains(accepted, e => e.UserId == "u-1"); // the good event stands beside whatever the other is
        foreach (var e in accepted)
        {
            AssertValid(e);
        }
    }

    [Property(Replay = "(20261126,5)", MaxTest = 300)]
    public void Random_property_maps_are_refused_or_valid(string[] keys, string[] values)
    {
        var pairs = keys.Zip(values, (k, v) => $"{JsonSerializer.Serialize(k ?? "")}:{JsonSerializer.Serialize(v ?? "")}");
        var body = Encoding.UTF8.GetBytes($"{{\"events\":[{GoodEvent("properties", "{" + string.Join(",", pairs) + "}")}]}}");
        foreach (var e in Ingest(body) ?? [])
        {
            AssertValid(e);
        }
    }

    [Fact]
    public void Invalid_utf8_and_lone_surrogates_fail_only_their_event()
    {
        var bad = Encoding.UTF8.GetBytes(GoodEvent("user_id", "\"x@\"")).ToList();
        var at = bad.IndexOf((byte)'@');
        bad[at] = 0xFF;
        byte[] body = [.. Encoding.UTF8.GetBytes($"{{\"events\":[{GoodEvent()},"), .. bad,
            .. Encoding.UTF8.GetBytes($",{GoodEvent("user_id", "\"\\ud83d\"")}]}}")];
        var accepted = Ingest(body);
        Assert.NotNull(accepted);
        Assert.Single(accepted);
    }
}
