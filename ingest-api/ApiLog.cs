namespace PricingOptimizer.IngestApi;

/// <summary>The API's log messages, in one place.</summary>
internal static partial class ApiLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Ingest API on the {Kind} event log; lake at {Lake}")]
    public static partial void Starting(ILogger logger, string kind, string lake);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "!!! Auth:SigningKey is not set: tokens are signed with the PUBLIC DEVELOPMENT KEY. Anyone can mint tokens. Set Auth:SigningKey " +
            "(base64, >= 32 bytes) before exposing this service. !!!")]
    public static partial void DevelopmentKey(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Answered 503 to {Path}: {Reason}")]
    public static partial void Unavailable(ILogger logger, string path, string reason);
}
