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
        EventJson.WriteFields(w, e);
        w.WriteNumber("occurred_at_us", ToUnixMicroseconds(e.OccurredAt));
        EventJson.WriteProperties(w, e);
        w.WriteEndObject();
        w.Flush();
        return b.WrittenSpan.ToArray();
    }

    public static TenantEvent Decode(ReadOnlySpan<byte> json, StringPool? pool = null)
    {
        pool ??= new StringPool();
        var r = new Utf8JsonReader(json);
        string? tenant = null, eventId = null, experiment = null, variant = null, user = null, currency = null;
        var eventType = (EventType)(-1);
        long ingested = 0, occurred = 0;
        decimal price = 0;
        decimal? revenue = null;
        Dictionary<string, string>? properties = null;
        r.Read();
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = r.ValueSpan;
            r.Read();
            // Property names are compared as bytes: decoding is on the lander's hot path.
            if (name.SequenceEqual("tenant_id"u8)) tenant = pool.Get(ref r);
            else if (name.SequenceEqual("ingested_at_us"u8)) ingested = r.GetInt64();
            else if (name.SequenceEqual("event_id"u8)) eventId = r.GetString();
            else if (name.SequenceEqual("type"u8)) eventType = r.ValueTextEquals("assign"u8) ? EventType.Assign : r.ValueTextEquals("convert"u8)
                ? EventType.Convert : eventType;
            else if (name.SequenceEqual("experiment_id"u8)) experiment = pool.Get(ref r);
            else if (name.SequenceEqual("variant_id"u8)) variant = pool.Get(ref r);
            else if (name.SequenceEqual("user_id"u8)) user = r.GetString();
            else if (name.SequenceEqual("price"u8)) price = r.GetDecimal();
            else if (name.SequenceEqual("revenue"u8)) revenue = r.GetDecimal();
            else if (name.SequenceEqual("currency"u8)) currency = pool.Get(ref r);
            else if (name.SequenceEqual("occurred_at_us"u8)) occurred = r.GetInt64();
            else if (name.SequenceEqual("properties"u8))
            {
                properties = new Dictionary<string, string>(StringComparer.Ordinal);
                while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                {
                    var key = pool.Get(ref r);
                    r.Read();
                    properties[key] = pool.Get(ref r);
                }
            }
            else
            {
                r.Skip();
            }
        }

        if (tenant is null || eventId is null || (int)eventType < 0 || experiment is null || variant is null || user is null || currency is null)
        {
            throw new InvalidDataException("A log record lacks a field of contract v1; it was not written by this version's codec.");
        }

        return new TenantEvent(tenant, FromUnixMicroseconds(ingested),
            new PricingEvent(eventId, eventType, experiment, variant, user, price, revenue, currency, FromUnixMicroseconds(occurred), properties));
    }

    /// <summary>Decodes raw log records, in parallel chunks when there are many (the lander's hot path).</summary>
    public static LogRecord[] DecodeMany(IReadOnlyList<(string Source, long Position, byte[] Payload)> raw)
    {
        var records = new LogRecord[raw.Count];
        const int chunk = 8192;
        var chunks = (raw.Count + chunk - 1) / chunk;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, c =>
        {
            var pool = new StringPool();
            var end = Math.Min(raw.Count, (c + 1) * chunk);
            for (var i = c * chunk; i < end; i++)
            {
                var (source, position, payload) = raw[i];
                records[i] = new LogRecord(source, position, Decode(payload, pool));
            }
        });
        return records;
    }

    public static long ToUnixMicroseconds(DateTimeOffset at) => (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    public static DateTimeOffset FromUnixMicroseconds(long us) => DateTimeOffset.UnixEpoch.AddTicks(us * TimeSpan.TicksPerMicrosecond);

    /// <summary>The Kafka key: one user's events of one experiment stay in one partition, in order.</summary>
    public static string PartitionKey(TenantEvent item) =>
        string.Create(CultureInfo.InvariantCulture, $"{item.TenantId}/{item.Event.ExperimentId}/{item.Event.UserId}");
}
