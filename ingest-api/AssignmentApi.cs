using System.ComponentModel.DataAnnotations;
using PricingOptimizer.Errors;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using PricingOptimizer.EventLog;
using PricingOptimizer.Events;
using PricingOptimizer.Experiments;
using PricingOptimizer.Telemetry;

namespace PricingOptimizer.IngestApi;

/// <summary><c>POST /v1/assign</c> and <c>POST /v1/convert</c>: the server side of a price test.</summary>
public static class AssignmentApi
{
    public sealed record AssignRequest([property: Required] string? ExperimentId, [property: Required] string? UserId);

    public sealed record AssignResponse(string ExperimentId, string VariantId, decimal Price, string Currency);

    public sealed record ConvertRequest([property: Required] string? ExperimentId, [property: Required] string? UserId, [property: Required] string? EventId, decimal? Price, decimal? Revenue, string? OccurredAt);

    public sealed record ConvertResponse(int Accepted, string VariantId);

    public static IEndpointRouteBuilder MapAssignmentApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/assign", async (AssignRequest? body, HttpContext context, ExperimentAssignments experiments, IEventLog log, PoMetrics metrics,
                    TimeProvider time, CancellationToken ct) =>
                {
                    var tenantId = context.TenantId();
                    var (experiment, variant) = await experiments.AssignAsync(tenantId, body?.ExperimentId, body?.UserId, ct);
                    var assign = new PricingEvent(VariantAssigner.AssignEventId(experiment.ExperimentId, body!.UserId!), EventType.Assign,
                        experiment.ExperimentId,
                        variant.VariantId, body.UserId!, variant.Price, null, experiment.Currency, EventValidator.TruncateToMicroseconds(time.GetUtcNow()));
                    await AppendAsync(log, metrics, tenantId, assign, time, ct);
                    return Results.Ok(new AssignResponse(experiment.ExperimentId, variant.VariantId, variant.Price, experiment.Currency));
                })
            .RequireAuthorization(IngestApiExtensions.TenantPolicy)
            .Produces<AssignResponse>()
            .WithName("Assign").WithSummary("The user's variant and price of an active experiment; records the assign.").WithTags("assignment");

        app.MapPost("/v1/convert", async (ConvertRequest? body, HttpContext context, ExperimentAssignments experiments, EventValidator validator,
                    IEventLog log, PoMetrics metrics, TimeProvider time, CancellationToken ct) =>
                {
                    var tenantId = context.TenantId();
                    var (experiment, variant) = await experiments.VariantForConversionAsync(tenantId, body?.ExperimentId, body?.UserId, ct);
                    var raw = new RawEvent
                    {
                        EventId = body!.EventId,
                        Type = EventTypeNames.Convert,
                        ExperimentId = experiment.ExperimentId,
                        VariantId = variant.VariantId,
                        UserId = body.UserId,
                        Price = (body.Price ?? variant.Price).ToString(CultureInfo.InvariantCulture),
                        Revenue = body.Revenue?.ToString(CultureInfo.InvariantCulture),
                        Currency = experiment.Currency,
                        OccurredAt = body.OccurredAt ?? time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
                    };
                    var errors = new List<EventError>();
                    if (validator.Validate(raw, EventSource.Http, errors) is not { } convert)
                    {
                        metrics.Rejected(errors[0].Field);
                        throw new InvalidInputException($"{errors[0].Field} {errors[0].Reason}", errors[0].Field);
                    }

                    await AppendAsync(log, metrics, tenantId, convert, time, ct);
                    return Results.Json(new ConvertResponse(1, variant.VariantId), statusCode: StatusCodes.Status202Accepted);
                })
            .RequireAuthorization(IngestApiExtensions.TenantPolicy)
            .Produces<ConvertResponse>(StatusCodes.Status202Accepted)
            .WithName("Convert").WithSummary("Records a purchase by a user of the experiment.").WithTags("assignment");
        return app;
    }

    /// <summary>Appends one event; an unavailable log throws (503 with Retry-After, nothing recorded).</summary>
    private static Task AppendAsync(IEventLog log, PoMetrics metrics, string tenantId, PricingEvent e, TimeProvider time, CancellationToken ct) =>
        metrics.AppendAsync(log, [new TenantEvent(tenantId, EventValidator.TruncateToMicroseconds(time.GetUtcNow()), e)], ct);
}
