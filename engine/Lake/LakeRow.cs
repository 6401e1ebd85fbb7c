using System.Text.Json.Serialization;
using Parquet.Serialization.Attributes;
using PricingOptimizer.EventLog;
using PricingOptimizer.Events;

namespace PricingOptimizer.Lake;

/// <summary>One row of an events Parquet file. The partition columns (tenant_id, event_date) live in the path.</summary>
public sealed class LakeRow
{
    [JsonPropertyName("event_id"), ParquetRequired] public string EventId { get; set; } = "";
    [JsonPropertyName("type"), ParquetRequired] public string Type { get; set; } = "";
    [JsonPropertyName("experiment_id"), ParquetRequired] public string ExperimentId { get; set; } = "";
    [JsonPropertyName("variant_id"), ParquetRequired] public string VariantId { get; set; } = "";
    [JsonPropertyName("user_id"), ParquetRequired] public string UserId { get; set; } = "";
    [JsonPropertyName("price"), ParquetDecimal(18, 4)] public decimal Price { get; set; }
    [JsonPropertyName("revenue"), ParquetDecimal(18, 4)] public decimal? Revenue { get; set; }
    [JsonPropertyName("currency"), ParquetRequired] public string Currency { get; set; } = "";

    [JsonPropertyName("occurred_at"), ParquetTimestamp(ParquetTimestampResolution.Microseconds, true, true)]
    public DateTime OccurredAt { get; set; }

    [JsonPropertyName("properties")] public Dictionary<string, string>? Properties { get; set; }

    [JsonPropertyName("ingested_at"), ParquetTimestamp(ParquetTimestampResolution.Microseconds, true, true)]
    public DateTime IngestedAt { get; set; }

    /// <summary>Where the row came from in the log, for tracing a row back to its source.</summary>
    [JsonPropertyName("log_source"), ParquetRequired] public string LogSource { get; set; } = "";

    [JsonPropertyName("log_position")] public long LogPosition { get; set; }

    public static LakeRow From(LogRecord record)
    {
        var e = record.Item.Event;
        return new LakeRow
        {
            EventId = e.EventId,
            Type = e.Type.ToWire(),
            ExperimentId = e.ExperimentId,
            VariantId = e.VariantId,
            UserId = e.UserId,
            Price = e.Price,
            Revenue = e.Revenue,
            Currency = e.Currency,
            OccurredAt = e.OccurredAt.UtcDateTime,
            Properties = e.Properties is { Count: > 0 } p ? new Dictionary<string, string>(p) : null,
            IngestedAt = record.Item.IngestedAt.UtcDateTime,
            LogSource = record.Source,
            LogPosition = record.Position,
        };
    }
}
