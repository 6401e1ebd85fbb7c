using PricingOptimizer.Tenancy;

namespace PricingOptimizer.IngestApi;

/// <summary>The authenticated tenant of a request.</summary>
internal static class TenantContext
{
    /// <summary>The tenant of the token; only call behind <see cref="IngestApiExtensions.TenantPolicy"/>.</summary>
    public static string TenantId(this HttpContext context) => context.User.FindFirst(TenantClaims.TenantId)!.Value;
}
