namespace PricingOptimizer.ControlPlane;

/// <summary>A business using PricingOptimizer.</summary>
public sealed record Tenant(string TenantId, string Name, string Plan, DateTimeOffset CreatedAt);

/// <summary>An API key as stored: never the key itself, only its prefix (to list and revoke it) and its hash.</summary>
public sealed record ApiKeyInfo(string Prefix, string TenantId, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    public bool IsRevoked => RevokedAt is not null;
}
