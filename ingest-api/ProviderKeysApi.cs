using System.ComponentModel.DataAnnotations;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.IngestApi;

/// <summary><c>/v1/provider-keys</c>: a tenant's own Stripe or Paid.ai key (BYOK), stored sealed and never returned.</summary>
public static class ProviderKeysApi
{
    public sealed record StoreKeyRequest([property: Required] string? Key);

    public sealed record RotationResponse(int Resealed, int MasterKeyVersion);

    public static IEndpointRouteBuilder MapProviderKeysApi(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/v1/provider-keys").WithTags("provider keys").RequireAuthorization(IngestApiExtensions.TenantPolicy);
        keys.MapPut("/{provider}", async (string provider, StoreKeyRequest? body, HttpContext context, KeyManager manager, CancellationToken ct) =>
                Results.Ok(await manager.StoreAsync(context.TenantId(), provider, body?.Key, ct)))
            .Produces<KeyManager.ProviderKeySummary>()
            .WithName("StoreProviderKey").WithSummary("Stores (or replaces) the tenant's key for a provider; only its last 4 characters come back.");
        keys.MapGet("", async (HttpContext context, KeyManager manager, CancellationToken ct) =>
                Results.Ok(await manager.ListAsync(context.TenantId(), ct)))
            .Produces<IReadOnlyList<KeyManager.ProviderKeySummary>>()
            .WithName("ListProviderKeys").WithSummary("Which providers have a key, with the last 4 characters.");
        keys.MapDelete("/{provider}", async (string provider, HttpContext context, KeyManager manager, CancellationToken ct) =>
                
                {
                    await manager.DeleteAsync(context.TenantId(), provider, ct);
                    return Results.NoContent();
                })
            .Produces(StatusCodes.Status204NoContent)
            .WithName("DeleteProviderKey").WithSummary("Forgets the tenant's key for a provider.");
        return app;
    }

    /// <summary><c>POST /v1/admin/provider-keys/rotate</c>: re-seal every provider key under the current master key.</summary>
    public static RouteGroupBuilder MapKeyRotation(this RouteGroupBuilder admin)
    {
        admin.MapPost("/provider-keys/rotate",
            async (KeyManager manager, Microsoft.Extensions.Options.IOptions<KeyManagerOptions> options, CancellationToken ct) =>
                Results.Ok(new RotationResponse(await manager.RotateAsync(ct), options.Value.MasterKeyVersion)))
            .Produces<RotationResponse>()
            .WithName("RotateProviderKeys").WithSummary("Re-seals every stored provider key under KeyManager:MasterKeyVersion.");
        return admin;
    }
}
