using PricingOptimizer.Errors;
using Microsoft.Extensions.Options;
using PricingOptimizer.Billing;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.IngestApi;

/// <summary><c>/v1/billing/adapter</c> (which provider bills the tenant's events, and how) and <c>/v1/billing/dead-letters</c>.</summary>
public static class BillingAdaptersApi
{
    public sealed record AdapterRequest(string? Provider, string? Mode);

    public sealed record AdapterResponse(string Provider, string Mode, DateTimeOffset UpdatedAt);

    public static IEndpointRouteBuilder MapBillingAdaptersApi(this IEndpointRouteBuilder app)
    {
        var billing = app.MapGroup("/v1/billing").WithTags("billing").RequireAuthorization(IngestApiExtensions.TenantPolicy);
        billing.MapPut("/adapter", async (AdapterRequest? body, HttpContext context, IBillingStore store, KeyManager keys, IOptions<BillingOptions> options,
                TimeProvider time, CancellationToken ct) =>
            {
                var tenantId = context.TenantId();
                var provider = body?.Provider ?? throw new InvalidInputException("send {provider, mode}", "provider");
                if (!BillingAdapterFactory.Providers.Contains(provider))
                {
                    throw new InvalidInputException($"provider '{provider}' is not one of stripe, paid_ai, manual", "provider");
                }

                var mode = (body.Mode ?? "managed") switch
                {
                    "managed" => BillingMode.Managed,
                    "byok" => BillingMode.Byok,
                    var other => throw new InvalidInputException($"mode '{other}' is not managed or byok", "mode"),
                };
                if (provider == "manual" && mode == BillingMode.Byok)
                {
                    throw new InvalidInputException("the manual adapter has no provider account, so no BYOK mode", "mode");
                }

                var o = options.Value;
                if (mode == BillingMode.Managed && provider != "manual" && (provider == "stripe" ? o.Stripe.PlatformKey : o.PaidAi.PlatformKey) is null)
                {
                    throw new InvalidInputException($"this platform has no {provider} key of its own; use mode byok with your key (PUT /v1/provider-keys/{provider})", "mode");
                }

                if (mode == BillingMode.Byok && (await keys.ListAsync(tenantId, ct)).All(k => k.Provider != provider))
                {
                    throw new InvalidInputException($"store your {provider} key first with PUT /v1/provider-keys/{provider}", "mode");
                }

                if (provider == "paid_ai" && o.PaidAi.BaseUrl is null)
                {
                    throw new InvalidInputException("this platform has no Paid.ai base URL configured (Billing:PaidAi:BaseUrl)", "provider");
                }

                var settings = new BillingSettings(tenantId, provider, mode, time.GetUtcNow());
                await store.SetBillingAsync(settings, ct);
                return Results.Ok(ToResponse(settings));
            })
            .WithName("SetBillingAdapter").WithSummary("{provider: stripe|paid_ai|manual, mode: managed|byok}: events from now on are delivered there.");
        billing.MapGet("/adapter", async (HttpContext context, IBillingStore store, CancellationToken ct) =>
                await store.GetBillingAsync(context.TenantId(), ct) is { } settings
                    ? Results.Ok(ToResponse(settings))
                    : Results.Problem(statusCode: 404, title: "Not found", detail: "no billing adapter set; PUT /v1/billing/adapter {provider, mode}"))
            .WithName("GetBillingAdapter").WithSummary("The tenant's billing adapter (provider and mode); 404 when none is set.");
        billing.MapDelete("/adapter", async (HttpContext context, IBillingStore store, CancellationToken ct) =>
                await store.DeleteBillingAsync(context.TenantId(), ct) ? Results.NoContent() : Results.Problem(statusCode: 404, title: "Not found", detail: "no billing adapter set"))
            .WithName("DeleteBillingAdapter").WithSummary("Stops delivering the tenant's events to a billing provider; 404 when none was set.");
        billing.MapGet("/dead-letters", async (int? limit, HttpContext context, IBillingStore store, CancellationToken ct) =>
                limit is < 1 or > 1000
                    ? throw new InvalidInputException("limit is 1 to 1000", "limit")
                    : Results.Ok(await store.ListDeadLettersAsync(context.TenantId(), limit ?? 100, ct)))
            .WithName("ListDeadLetters").WithSummary("Items the provider refused for good (or after every retry), newest first, with the provider's error.");
        return app;
    }

    private static AdapterResponse ToResponse(BillingSettings s) => new(s.Provider, s.Mode == BillingMode.Byok ? "byok" : "managed", s.UpdatedAt);
}
