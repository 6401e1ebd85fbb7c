using System.Buffers;
using System.Globalization;
using System.Text.Json;
using PricingOptimizer.EventLog;
using PricingOptimizer.Events;

namespace PricingOptimizer.IngestApi;

/// <summary><c>POST /v1/events</c>: batches of assign and convert events.</summary>
public static class EventsApi
{
    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/events", IngestAsync)
            .RequireAuthorization(IngestApiExtensions.TenantPolicy)
            .Accepts<EventBatch>("application/json")
            .Produces<IngestResponse>(StatusCodes.Status202Accepted)
            .WithName("IngestEvents")
            .WithSummary("Takes 1-1,000 events; answers 202 once the accepted ones are durable in the event log.")
            .WithTags("events");
        return app;
    }

    /// <summary>One rejected event of a batch: its index, the field and the rule that failed.</summary>
    public sealed record Rejection(int Index, string Field, string Reason);

    public sealed record IngestResponse(int Accepted, IReadOnlyList<Rejection> Rejected);

    /// <summary>The request body's shape, for the OpenAPI document (the handler reads the body itself, event by event).</summary>
    public sealed record EventBatch(IReadOnlyList<EventContract> Events);

    /// <summary>One event of the contract (README "Events (contract v1)"), as sent.</summary>
    public sealed record EventContract(string EventId, string Type, string ExperimentId, string VariantId, string UserId, decimal Price, decimal? Revenue,
        string Currency, DateTimeOffset OccurredAt, IReadOnlyDictionary<string, string>? Properties);

    internal static async Task<IResult> IngestAsync(HttpContext context, IEventLog log, EventValidator validator,
        Experiments.ExperimentAssignments experiments, Telemetry.PoMetrics metrics, TimeProvider time, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (!request.HasJsonContentType())
        {
            return Results.Problem(statusCode: 415, title: "Unsupported media type",
                detail: "send the batch as 'Content-Type: application/json'");
        }

        if (request.ContentLength > EventRules.MaxRequestBytes)
        {
            return TooLarge();
        }

        var body = await ReadBodyAsync(request.Body, EventRules.MaxRequestBytes, cancellationToken);
        if (body is null)
        {
            return TooLarge();
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.Value, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            return Results.Problem(statusCode: 400, title: "Malformed JSON", detail: e.Message,
                extensions: new Dictionary<string, object?> { ["field"] = "body" });
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object ||
                !document.RootElement.TryGetProperty("events", out var array) || array.ValueKind != JsonValueKind.Array)
            {
                return Results.Problem(statusCode: 400, title: "Invalid request", detail: "the body must be {\"events\": [ ... ]}",
                    extensions: new Dictionary<string, object?> { ["field"] = "events" });
            }

            var count = array.GetArrayLength();
            if (count == 0)
            {
                return Results.Problem(statusCode: 400, title: "Invalid request", detail: "events must hold at least one event",
                    extensions: new Dictionary<string, object?> { ["field"] = "events" });
            }

            if (count > EventRules.MaxEventsPerRequest)
            {
                return Results.Problem(statusCode: 413, title: "Too many events",
                    detail: string.Create(CultureInfo.InvariantCulture, $"a batch holds at most {EventRules.MaxEventsPerRequest} events; this one has {count}"),
                    extensions: new Dictionary<string, object?> { ["field"] = "events" });
            }

            var tenantId = context.TenantId();
            var ingestedAt = EventValidator.TruncateToMicroseconds(time.GetUtcNow());
            var accepted = new List<TenantEvent>(count);
            var rejected = new List<Rejection>();
            var errors = new List<EventError>();
            var index = 0;
            var checks = experiments.ChecksFor(tenantId);
            foreach (var element in array.EnumerateArray())
            {
                errors.Clear();
                var e = validator.Validate(EventJson.ReadRaw(element), EventSource.Http, errors);
                if (e is not null && await checks.CheckAsync(e, cancellationToken) is { } broken)
                {
                    errors.Add(broken);
                    e = null;
                }

                if (e is null)
                {
                    rejected.AddRange(errors.Select(x => new Rejection(index, x.Field, x.Reason)));
                    metrics.Rejected(errors.Count > 0 ? errors[0].Field : "event");
                }
                else
                {
                    accepted.Add(new TenantEvent(tenantId, ingestedAt, e));
                }

                index++;
            }

            if (accepted.Count == 0)
            {
                return Results.Problem(statusCode: 400, title: "Every event was rejected",
                    detail: $"{count} of {count} events broke a rule of the event contract; see 'rejected'",
                    extensions: new Dictionary<string, object?>
                    {
                        ["field"] = string.Create(CultureInfo.InvariantCulture, $"events[{rejected[0].Index}].{rejected[0].Field}"),
                        ["accepted"] = 0,
                        ["rejected"] = rejected,
                    });
            }

            // An unavailable log throws: 503 with Retry-After (Problems); event ids make the retry safe.
            await metrics.AppendAsync(log, accepted, cancellationToken);

            return Results.Json(new IngestResponse(accepted.Count, rejected), statusCode: 202);
        }
    }

    private static IResult TooLarge() => Results.Problem(statusCode: 413, title: "Request too large",
        detail: string.Create(CultureInfo.InvariantCulture, $"the body may be at most {EventRules.MaxRequestBytes} bytes; split the batch"));

    /// <summary>Reads at most <paramref name="limit"/> bytes; null when the body is longer.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        while (true)
        {
            var memory = buffer.GetMemory(16 * 1024);
            var read = await body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                return buffer.WrittenMemory;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                return null;
            }
        }
    }
}
