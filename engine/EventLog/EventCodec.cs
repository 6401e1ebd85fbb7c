using System.Buffers;
using System.Globalization;
using System.Text.Json;
using PricingOptimizer.Events;

namespace PricingOptimizer.EventLog;

/// <summary>
/// The bytes of one accepted event in the log (Kafka message value, SQLite row): the wire JSON of the event plus
/// <c>tenant_id</c> and <c>ingested_at</c>. Only this codec writes them, so reading trusts the shape.
/// </summary>
public static class EventCodec
{
    [ThreadStatic] private static ArrayBufferWriter<byte>? buffer;
    [ThreadStatic] private static Utf8JsonWriter? writer;

    public static byte[] Encode(TenantEvent item)
    {
        var b = buffer ??= new ArrayBufferWriter<byte>(512);
        b.ResetWrittenCount();
        var w = writer ??= new Utf8JsonWriter(b);
        w.Reset(b);
        var e = item.Event;
        w.WriteStartObject();
        w.WriteString("tenant_id", item.TenantId);
        w.WriteNumber("ingested_at_us", ToUnixMicroseconds(item.IngestedAt));
        w.WriteString("event_id", e.EventId);
        w.WriteString("type", e.Type.ToWire());
        w.WriteString("experiment_id", e.ExperimentId);
        w.WriteString("variant_id", e.VariantId);
        w.WriteString("user_id", e.UserId);
        w.WriteNumber("price", e.Price);
        if (e.Revenue is { } revenue)
        {
            w.WriteNumber("revenue", revenue);
        }

        w.WriteString("currency", e.Currency);
        w.WriteNumber("occurred_at_us", ToUnixMicroseconds(e.OccurredAt));
        if (e.Properties is { Count: > 0 } properties)
        {
            w.WriteStartObject("properties");
            foreach (var (key, value) in properties)
            {
                w.WriteString(key, value);
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.Flush();
        return b.WrittenSpan.ToArray();
    }

    public static TenantEvent Decode(ReadOnlySpan<byte> json)
    {
        var r = new Utf8JsonReader(json);
        string? tenant = null, eventId = null, type = null, experiment = null, variant = null, user = null, currency = null;
        long ingested = 0, occurred = 0;
        decimal price = 0;
        decimal? revenue = null;
        Dictionary<string, string>? properties = null;
        r.Read();
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = r.GetString();
            r.Read();
            switch (name)
            {
                case "tenant_id": tenant = r.GetString(); break;
                case "ingested_at_us": ingested = r.GetInt64(); break;
                case "event_id": eventId = r.GetString(); break;
                case "type": type = r.GetString(); break;
                case "experiment_id": experiment = r.GetString(); break;
                case "variant_id": variant = r.GetString(); break;
                case "user_id": user = r.GetString(); break;
                case "price": price = r.GetDecimal(); break;
                case "revenue": revenue = r.GetDecimal(); break;
                case "currency": currency = r.GetString(); break;
                case "occurred_at_us": occurred = r.GetInt64(); break;
                case "properties":
                    properties = new Dictionary<string, string>(StringComparer.Ordinal);
                    while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                    {
                        var key = r.GetString()!;
                        r.Read();
                        properties[key] = r.GetString()!;
                    }

                    break;
                default: r.Skip(); break;
            }
        }

        if (tenant is null || eventId is null || !EventTypeNames.TryParse(type, out var eventType) || experiment is null ||
            variant is null || user is null || currency is null)
        {
            throw new InvalidDataException("A log record lacks a field of contract v1; it was not written by this version's codec.");
        }

        return new TenantEvent(tenant, FromUnixMicroseconds(ingested),
            new PricingEvent(eventId, eventType, experiment, variant, user, price, revenue, currency, FromUnixMicroseconds(occurred), properties));
    }

    public static long ToUnixMicroseconds(DateTimeOffset at) => (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    public static DateTimeOffset FromUnixMicroseconds(long us) => DateTimeOffset.UnixEpoch.AddTicks(us * TimeSpan.TicksPerMicrosecond);

    /// <summary>The Kafka key: one user's events of one experiment stay in one partition, in order.</summary>
    public static string PartitionKey(TenantEvent item) =>
        string.Create(CultureInfo.InvariantCulture, $"{item.TenantId}/{item.Event.ExperimentId}/{item.Event.UserId}");
}
