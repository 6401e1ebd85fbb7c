using System.ComponentModel.DataAnnotations;

namespace PricingOptimizer.EventLog.Kafka;

/// <summary>Configuration section <c>Kafka</c>. When <see cref="BootstrapServers"/> is set, Kafka is the event log.</summary>
public sealed class KafkaOptions
{
    public const string Section = "Kafka";

    public string? BootstrapServers { get; set; }

    [Required, RegularExpression(@"^[A-Za-z0-9._-]{1,249}$", ErrorMessage = "Kafka:Topic must be a legal Kafka topic name")]
    public string Topic { get; set; } = "po.events.v1";

    /// <summary>How long a produce may wait for the brokers before the API answers 503.</summary>
    [Range(1000, 600_000)]
    public int MessageTimeoutMs { get; set; } = 10_000;

    [Range(0, 1000)]
    public int LingerMs { get; set; } = 5;

    [Range(3000, 300_000)]
    public int SessionTimeoutMs { get; set; } = 10_000;

    public bool Enabled => !string.IsNullOrWhiteSpace(BootstrapServers);
}
