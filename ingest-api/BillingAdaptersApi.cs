using System.ComponentModel.DataAnnotations;
using PricingOptimizer.Errors;
using PricingOptimizer.Billing;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.IngestApi;

/// <summary><c>/v1/billing/adapter</c> (which provider bills the tenant's events, and how) and <c>/v1/billing/dead-letters</c>.</summary>
public static class BillingAdaptersApi
{
    public sealed record AdapterRequest([property: Required] string? Provider, string? Mode);

    public sealed record AdapterResponse(BillingProvider Provider, BillingMode Mode, DateTimeOffset UpdatedAt);

    public static IEndpointRouteBuilder MapBillingAdaptersApi(this IEndpointRouteBuilder app)
    {
        var billing = app.MapGroup("/v1/billing").WithTags("billing").RequireAuthorization(IngestApiExtensions.TenantPolicy);
        billing.MapPut("/adapter", async (AdapterRequest? body, HttpContext context, BillingAdapterChoice choice, CancellationToken ct) =>
                Results.Ok(ToResponse(await choice.SetAsync(context.TenantId(), body?.Provider, body?.Mode, ct))))
            .Produces<AdapterResponse>()
            .WithName("SetBillingAdapter").WithSummary("{provider: stripe|paid_ai|manual, mode: managed|byok}: events from now on are delivered there.");
        billing.MapGet("/adapter", async (HttpContext context, IBillingStore store, CancellationToken ct) =>
                await store.GetBillingAsync(context.TenantId(), ct) is { } settings
                    ? Results.Ok(ToResponse(settings))
                    : Results.Problem(statusCode: 404, title: "Not found", detail: "no billing adapter set; PUT /v1/billing/adapter {provider, mode}"))
            .Produces<AdapterResponse>()
            .WithName("GetBillingAdapter").WithSummary("The tenant's billing adapter (provider and mode); 404 when none is set.");
        billing.MapDelete("/adapter", async (HttpContext context, IBillingStore store, CancellationToken ct) =>
                await store.DeleteBillingAsync(context.TenantId(), ct) ? Results.NoContent() : Results.Problem(statusCode: 404, title: "Not found",
                    detail: "no billing adapter set"))
            .Produces(StatusCodes.Status204NoContent)
            .WithName("DeleteBillingAdapter").WithSummary("Stops delivering the tenant's events to a billing provider; 404 when none was set.");
        billing.MapGet("/dead-letters", async (int? limit, HttpContext context, IBillingStore store, CancellationToken ct) =>
                limit is < 1 or > 1000
                    ? throw new InvalidInputException("limit is 1 to 1000", "limit")
                    : Results.Ok(await store.ListDeadLettersAsync(context.TenantId(), limit ?? 100, ct)))
            .Produces<IReadOnlyList<DeadLetter>>()
            .WithName("ListDeadLetters").WithSummary("Items the provider refused for good (or after every retry), newest first, with the provider's error.");
        return app;
    }

    private static AdapterResponse ToResponse(BillingSettings s) => new(s.Provider, s.Mode, s.UpdatedAt);
}
