using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace PricingOptimizer.EventLog.Kafka;

internal static partial class KafkaLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka {Client} error {Code}: {Reason}")]
    public static partial void ClientError(ILogger logger, string client, ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "librdkafka {Name}: {Message}")]
    public static partial void ClientLog(ILogger logger, string name, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Lander consumer {GroupId} assigned {Partitions}")]
    public static partial void Assigned(ILogger logger, string groupId, string partitions);
}
