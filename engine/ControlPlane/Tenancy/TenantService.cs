using PricingOptimizer.Errors;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using PricingOptimizer.ControlPlane;

namespace PricingOptimizer.Tenancy;

/// <summary>Tenants, their plans and their API keys; and the exchange of a key for a token.</summary>
public sealed class TenantService(ITenantStore store, IOptions<PlanOptions> plans, TokenIssuer tokens, TimeProvider time,
    ControlPlaneChanges? changes = null)
{
    private const string KeyMarker = "po_";
    private const int PrefixLength = 12;

    /// <summary>An API key as shown to its owner, once.</summary>
    public sealed record NewApiKey(ApiKeyInfo Info, string Key);

    public async Task<(Tenant Tenant, NewApiKey Key)> CreateTenantAsync(string? name, string? plan, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200)
        {
            throw new InvalidInputException("name is required and must be at most 200 characters", "name");
        }

        var tenant = new Tenant("tn_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), name.Trim(), CheckPlan(plan), time.GetUtcNow());
        await store.CreateTenantAsync(tenant, cancellationToken);
        var key = await CreateApiKeyAsync(tenant.TenantId, cancellationToken);
        return (tenant, key);
    }

    public async Task<Tenant> SetPlanAsync(string tenantId, string? plan, CancellationToken cancellationToken)
    {
        var checkedPlan = CheckPlan(plan);
        if (!await store.SetPlanAsync(tenantId, checkedPlan, cancellationToken))
        {
            throw new NotFoundException($"no tenant '{tenantId}'");
        }

        changes?.Publish(new ControlPlaneChange(ControlPlaneChangeKind.Tenant, tenantId)); // this process's caches; others hear it from the store
        return (await store.GetTenantAsync(tenantId, cancellationToken))!;
    }

    private string CheckPlan(string? plan)
    {
        if (plan is null || !plans.Value.TryGet(plan, out _))
        {
            throw new InvalidInputException(
                $"plan must be one of: {string.Join(", ", plans.Value.Plans.Keys)}", "plan");
        }

        return plans.Value.Plans.Keys.First(k => string.Equals(k, plan, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A new key for the tenant. Several may be live at once, so keys can be rotated without downtime.</summary>
    public async Task<NewApiKey> CreateApiKeyAsync(string tenantId, CancellationToken cancellationToken)
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var key = KeyMarker + Base64Url.EncodeToString(secret);
        var info = new ApiKeyInfo(key[..PrefixLength], tenantId, time.GetUtcNow(), null);
        await store.AddApiKeyAsync(info, Hash(key), cancellationToken);
        return new NewApiKey(info, key);
    }

    /// <summary>
    /// Keys are 256 random bits, so a fast hash is enough: nothing can be guessed from it, and a slow password hash
    /// would only slow every token exchange.
    /// </summary>
    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>Exchanges a live API key for a JWT carrying the tenant and its current plan.</summary>
    public async Task<(string Token, TimeSpan Lifetime, Tenant Tenant)> ExchangeAsync(string? apiKey, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(apiKey) || !apiKey.StartsWith(KeyMarker, StringComparison.Ordinal) || apiKey.Length > 128)
        {
            throw new UnauthorizedException("api_key is not a PricingOptimizer API key", "api_key");
        }

        var info = await store.FindApiKeyAsync(Hash(apiKey), cancellationToken);
        if (info is null || info.IsRevoked)
        {
            throw new UnauthorizedException(info is null ? "unknown api_key" : "this api_key was revoked", "api_key");
        }

        var tenant = await store.GetTenantAsync(info.TenantId, cancellationToken)
                     ?? throw new UnauthorizedException("the key's tenant no longer exists", "api_key");
        return (tokens.Issue(tenant.TenantId, tenant.Plan), tokens.Lifetime, tenant);
    }

    public Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync(string tenantId, CancellationToken cancellationToken) =>
        store.ListApiKeysAsync(tenantId, cancellationToken);

    public async Task RevokeApiKeyAsync(string tenantId, string prefix, CancellationToken cancellationToken)
    {
        if (!await store.RevokeApiKeyAsync(tenantId, prefix, time.GetUtcNow(), cancellationToken))
        {
            throw new NotFoundException($"no live key with prefix '{prefix}'", "prefix");
        }
    }

    public Task<Tenant?> GetTenantAsync(string tenantId, CancellationToken cancellationToken) => store.GetTenantAsync(tenantId, cancellationToken);

    public Task<IReadOnlyList<Tenant>> ListTenantsAsync(CancellationToken cancellationToken) => store.ListTenantsAsync(cancellationToken);
}
