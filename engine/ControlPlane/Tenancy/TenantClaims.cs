namespace PricingOptimizer.Tenancy;

/// <summary>Claim names of our tokens.</summary>
public static class TenantClaims
{
    public const string TenantId = "tenant_id";
    public const string Plan = "plan";
}
