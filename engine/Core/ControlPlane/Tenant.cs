namespace PricingOptimizer.ControlPlane;

/// <summary>A business using PricingOptimizer.</summary>
public sealed record Tenant(string TenantId, string Name, string Plan, DateTimeOffset CreatedAt);

/// <summary>An API key as stored: never the key itself, only its prefix (to list and revoke it) and its hash.</summary>
public sealed record ApiKeyInfo(string Prefix, string TenantId, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    public bool IsRevoked => RevokedAt is not null;
}

/// <summary>A BYOK provider key as stored: AES-256-GCM ciphertext, its nonce and tag, and the master key version that sealed it.</summary>
public sealed record SealedProviderKey(
    string TenantId, string Provider, int KeyVersion, byte[] Nonce, byte[] Ciphertext, byte[] Tag, string Last4, DateTimeOffset UpdatedAt);
