using System.ComponentModel.DataAnnotations;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.IngestApi;

/// <summary><c>POST /v1/auth/token</c> and the tenant's own API keys.</summary>
public static class AuthApi
{
    public sealed record TokenRequest([property: Required] string? ApiKey);

    public sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn, string TenantId, string Plan);

    public sealed record ApiKeyResponse(string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

    public sealed record CreatedApiKeyResponse(string Prefix, DateTimeOffset CreatedAt, string ApiKey);

    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/auth/token", async (TokenRequest? body, TenantService tenants, CancellationToken ct) =>
            {
                var (token, lifetime, tenant) = await tenants.ExchangeAsync(body?.ApiKey, ct);
                return Results.Ok(new TokenResponse(token, "Bearer", (int)lifetime.TotalSeconds, tenant.TenantId, tenant.Plan));
            })
            .Produces<TokenResponse>()
            .WithName("IssueToken").WithSummary("Exchanges an API key for a JWT.").WithTags("auth");

        var keys = app.MapGroup("/v1/api-keys").WithTags("auth").RequireAuthorization(IngestApiExtensions.TenantPolicy);
        keys.MapGet("", async (HttpContext context, TenantService tenants, CancellationToken ct) =>
                Results.Ok((await tenants.ListApiKeysAsync(context.TenantId(), ct)).Select(k => new ApiKeyResponse(k.Prefix, k.CreatedAt, k.RevokedAt))))
            .Produces<IReadOnlyList<ApiKeyResponse>>()
            .WithName("ListApiKeys").WithSummary("The tenant's keys, by prefix.");
        keys.MapPost("", async (HttpContext context, TenantService tenants, CancellationToken ct) =>
            {
                var key = await tenants.CreateApiKeyAsync(context.TenantId(), ct);
                return Results.Created($"/v1/api-keys/{key.Info.Prefix}", new CreatedApiKeyResponse(key.Info.Prefix, key.Info.CreatedAt, key.Key));
            })
            .Produces<CreatedApiKeyResponse>(StatusCodes.Status201Created)
            .WithName("CreateApiKey").WithSummary("A new key (shown once); several can be live for rotation.");
        keys.MapDelete("/{prefix}", async (string prefix, HttpContext context, TenantService tenants, CancellationToken ct) =>
            {
                await tenants.RevokeApiKeyAsync(context.TenantId(), prefix, ct);
                return Results.NoContent();
            })
            .Produces(StatusCodes.Status204NoContent)
            .WithName("RevokeApiKey").WithSummary("Revokes a key: it gets no new token.");
        return app;
    }
}
