using PricingOptimizer.Errors;
using PricingOptimizer.Experiments;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.IngestApi;

/// <summary><c>/v1/experiments</c>: CRUD and lifecycle of a tenant's price experiments.</summary>
public static class ExperimentsApi
{
    public sealed record VariantResponse(string VariantId, decimal Price, double Weight, bool Control);

    public sealed record ExperimentResponse(string ExperimentId, string Name, string Currency, ExperimentStatus Status,
        IReadOnlyList<VariantResponse> Variants, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, Pricing.Goal Goal, decimal? UnitCost,
        AllocationView Allocation);

    /// <summary>An adaptive experiment's weights over time: the settings, the version in force and every stored version.</summary>
    /// <summary>The allocation, the version in force, every version with why, and for an active adaptive experiment what the next update would do.</summary>
    public sealed record AllocationResponse(AllocationView Allocation, int InForceVersion, IReadOnlyList<WeightVersionResponse> Versions, NextUpdateResponse? Next);

    /// <summary>
    /// What the next update would do now: <c>burn_in</c>, <c>insufficient_data</c>, <c>frozen</c> (sample-ratio check failed),
    /// <c>paused</c> (drift check failed) or <c>update</c>, the weights it proposes, why, the checks' p-values and the stopping rule.
    /// </summary>
    public sealed record NextUpdateResponse(string State, IReadOnlyDictionary<string, double> Weights, IReadOnlyList<string> Reasons,
        double? SampleRatioPValue, double? DriftPValue, Pricing.StopVerdict? Stopping);

    public sealed record WeightVersionResponse(int Version, DateTimeOffset StartsAt, IReadOnlyDictionary<string, double> Weights, IReadOnlyList<string> Reasons);

    public static ExperimentResponse ToResponse(Experiment e) => new(e.ExperimentId, e.Name, e.Currency, e.Status,
        e.Variants.Select(v => new VariantResponse(v.VariantId, v.Price, v.Weight, v.Control)).ToList(), e.CreatedAt, e.UpdatedAt,
        e.Goal, e.UnitCost, AllocationView.From(e.Allocation));

    public static IEndpointRouteBuilder MapExperimentsApi(this IEndpointRouteBuilder app)
    {
        var experiments = app.MapGroup("/v1/experiments").WithTags("experiments").ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed).RequireAuthorization(IngestApiExtensions.TenantPolicy);

        experiments.MapGet("", async (HttpContext context, ExperimentService service, CancellationToken ct) =>
                Results.Ok((await service.ListAsync(context.TenantId(), ct)).Select(ToResponse)))
            .WithName("ListExperiments").WithSummary("The tenant's experiments.").Produces<IEnumerable<ExperimentResponse>>();

        experiments.MapPost("", async (ExperimentRequest? body, HttpContext context, ExperimentService service, CancellationToken ct) =>
                
                {
                    if (body is null)
                    {
                        throw Problems.MissingBody("name, currency and variants");
                    }

                    var created = await service.CreateAsync(context.TenantId(), body, ct);
                    context.Response.Headers.ETag = created.ETag;
                    return Results.Created($"/v1/experiments/{created.ExperimentId}", ToResponse(created));
                })
            .Produces<ExperimentResponse>(StatusCodes.Status201Created)
            .WithName("CreateExperiment").WithSummary("Creates a draft experiment.");

        experiments.MapGet("/{experimentId}", async (string experimentId, HttpContext context, ExperimentService service, CancellationToken ct) =>
                {
                    var experiment = await service.GetAsync(context.TenantId(), experimentId, ct);
                    // The bound within which the API's own caches see a change; SDKs cache the definition no longer.
                    context.Response.Headers.CacheControl = $"private, max-age={(int)ExperimentDefinitions.CacheTime.TotalSeconds}";
                    return Versioned(context, experiment);
                })
            .Produces<ExperimentResponse>()
            .WithName("GetExperiment").WithSummary("One experiment; Cache-Control max-age is how long a copy may be trusted.");

        experiments.MapGet("/{experimentId}/allocation", async (string experimentId, HttpContext context, ExperimentService service,
                Adaptive.AllocationService allocations, TimeProvider time, CancellationToken ct) =>
                {
                    var experiment = await service.GetAsync(context.TenantId(), experimentId, ct);
                    var versions = await allocations.VersionsAsync(context.TenantId(), experimentId, ct);
                    var now = time.GetUtcNow();
                    NextUpdateResponse? next = null;
                    if (experiment is { Status: ExperimentStatus.Active, Allocation.Mode: AllocationMode.Adaptive })
                    {
                        var p = await allocations.ProposeAsync(context.TenantId(), experimentId, ct);
                        next = new NextUpdateResponse(p.State, p.Weights, p.Reasons, p.SampleRatioPValue, p.DriftPValue, p.Stop);
                    }

                    return Results.Ok(new AllocationResponse(AllocationView.From(experiment.Allocation),
                        versions.LastOrDefault(v => v.StartsAt <= now)?.Version ?? 0,
                        [.. versions.Select(v => new WeightVersionResponse(v.Version, v.StartsAt, v.Weights, v.Reasons))], next));
                })
            .Produces<AllocationResponse>()
            .WithName("GetAllocation")
            .WithSummary("The experiment's allocation, its weight versions with why (version 0, before any, is the burn-in's equal split), and for an active adaptive experiment what the next update would do, the safeguards and the stopping rule.");

        experiments.MapPut("/{experimentId}",
            async (string experimentId, ExperimentRequest? body, HttpContext context, ExperimentService service, CancellationToken ct) =>
                body is null
                    ? throw Problems.MissingBody("the fields to change")
                    : Versioned(context, await service.ReplaceAsync(context.TenantId(), experimentId, body, IfMatch(context), ct)))
            .Produces<ExperimentResponse>()
            .WithName("UpdateExperiment").WithSummary("Changes the name anytime; variants and currency only in draft. If-Match: a stale ETag is 412.");

        experiments.MapDelete("/{experimentId}", async (string experimentId, HttpContext context, ExperimentService service, CancellationToken ct) =>
                
                {
                    await service.DeleteAsync(context.TenantId(), experimentId, IfMatch(context), ct);
                    return Results.NoContent();
                })
            .Produces(StatusCodes.Status204NoContent)
            .WithName("DeleteExperiment").WithSummary("Deletes a draft or completed experiment.");

        experiments.MapGet("/{experimentId}/readout", async (string experimentId, string? control, HttpContext context, Statistics.ReadoutService readouts,
                    CancellationToken ct) => Results.Ok(await readouts.GetAsync(context.TenantId(), experimentId, control,
                        ReadoutQuery(context.Request.Query, readouts.Defaults), ct)))
            .Produces<Statistics.Readout>()
            .WithName("Readout")
            .WithSummary("The statistics contract's readout (v1 and v2): per variant, against the control. " +
                "?control=&cap_percentile=&sequential_tuning=&cuped=&attribution_days=&mature_only=");

        experiments.MapGet("/{experimentId}/recommendation",
            async (string experimentId, HttpContext context, Pricing.PricingService pricing, CancellationToken ct) =>
                Results.Ok(await pricing.RecommendAsync(context.TenantId(), experimentId, RecommendationQuery(context.Request.Query), ct)))
            .Produces<Pricing.Recommendation>()
            .WithName("Recommendation")
            .WithSummary("The recommendation contract (v3): " +
                "?goal=revenue|profit|conversions[&unit_cost=][&control=][&price_floor=][&revenue_floor=][&extrapolation_margin=][&cap_percentile=][&attribution_days=][&mature_only=].");

        experiments.MapPost("/{experimentId}/{action:regex(^(start|pause|complete)$)}",
                async (string experimentId, string action, HttpContext context, ExperimentService service, CancellationToken ct) =>
                    Versioned(context, await service.MoveAsync(context.TenantId(), experimentId, action, IfMatch(context), ct)))
            .Produces<ExperimentResponse>()
            .WithName("MoveExperiment").WithSummary("start, pause or complete; an illegal move is 409 naming the allowed ones; a stale If-Match is 412.");
        return app;
    }

    /// <summary>200 with the experiment and its version as the ETag, for the next write's If-Match.</summary>
    private static IResult Versioned(HttpContext context, Experiment experiment)
    {
        context.Response.Headers.ETag = experiment.ETag;
        return Results.Ok(ToResponse(experiment));
    }

    private static string? IfMatch(HttpContext context) =>
        context.Request.Headers.IfMatch is { Count: > 0 } values ? string.Join(',', values.ToArray()) : null;

    /// <summary>The readout's options from the query, each falling back to the configured default; malformed ones are 400 naming the field.</summary>
    private static Statistics.ReadoutOptions ReadoutQuery(IQueryCollection query, Statistics.ReadoutOptions defaults)
    {
        return new Statistics.ReadoutOptions(
            QueryParameters.Double(query, "cap_percentile") ?? defaults.CapPercentile,
            QueryParameters.Double(query, "sequential_tuning") ?? defaults.SequentialTuning,
            QueryParameters.Bool(query, "cuped"),
            QueryParameters.Days(query, "attribution_days"),
            QueryParameters.Bool(query, "mature_only") ?? false);
    }

    /// <exception cref="InvalidInputException">A missing or malformed query parameter (400 with the field).</exception>
    internal static Pricing.RecommendationRequest RecommendationQuery(IQueryCollection query)
    {
        var goalText = query["goal"].ToString();
        if (!Json.Wire.TryParse<PricingOptimizer.Pricing.Goal>(goalText, out var goal))
        {
            throw new InvalidInputException(
                goalText.Length == 0 ? "add ?goal=revenue, profit or conversions" : $"goal '{goalText}' is not one of revenue, profit, conversions", "goal");
        }

        decimal? Money(string name)
        {
            var text = query[name].ToString();
            if (text.Length == 0)
            {
                return null;
            }

            return decimal.TryParse(text, System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out var value)
                ? value
                : throw new InvalidInputException($"{name} '{text}' is not a number", name);
        }

        var control = query["control"].ToString();
        var margin = Money("extrapolation_margin");
        var cap = Money("cap_percentile");
        return new Pricing.RecommendationRequest(goal, Money("unit_cost"), control.Length == 0 ? null : control, Money("price_floor"), Money("revenue_floor"),
            margin is null ? null : (double)margin.Value, cap is null ? null : (double)cap.Value, QueryParameters.Days(query, "attribution_days"),
            QueryParameters.Bool(query, "mature_only") ?? false);
    }
}
