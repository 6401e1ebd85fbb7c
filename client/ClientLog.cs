using Microsoft.Extensions.Logging;

namespace PricingOptimizer.Client;

/// <summary>The SDK's log messages, in one place.</summary>
internal static partial class ClientLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "PricingOptimizer: {ExperimentId} for {UserId} fell back to {Answer} ({Reason}: {Detail})")]
    public static partial void Fallback(ILogger logger, string experimentId, string userId, string reason, string detail, string answer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "PricingOptimizer: event {EventId} not delivered: {Reason}")]
    public static partial void ConversionLost(ILogger logger, string eventId, string reason);
}
