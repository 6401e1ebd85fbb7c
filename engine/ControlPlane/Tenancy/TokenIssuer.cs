using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Tenancy;

/// <summary>Mints and describes the validation of tenant JWTs (HS256).</summary>
public sealed class TokenIssuer(AuthOptions options, TimeProvider time)
{
    private readonly SymmetricSecurityKey key = new(options.SigningKeyBytes());

    public TimeSpan Lifetime => TimeSpan.FromHours(options.TokenLifetimeHours);

    /// <summary>A token for <paramref name="tenantId"/> on <paramref name="plan"/>, valid for <paramref name="lifetime"/> (default: configured).</summary>
    public string Issue(string tenantId, string plan, TimeSpan? lifetime = null)
    {
        LakeLayout.EnsureTenantId(tenantId);
        var now = time.GetUtcNow().UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + (lifetime ?? Lifetime),
            Subject = new ClaimsIdentity([new Claim(TenantClaims.TenantId, tenantId), new Claim(TenantClaims.Plan, plan)]),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    /// <summary>How the API validates tokens: issuer, audience, lifetime and signature, all required.</summary>
    public TokenValidationParameters ValidationParameters() => new()
    {
        ValidIssuer = options.Issuer,
        ValidAudience = options.Audience,
        IssuerSigningKey = key,
        ValidateIssuer = true,
        ValidateAudience = true,
        ValidateLifetime = true,
        ValidateIssuerSigningKey = true,
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256, SecurityAlgorithms.HmacSha384, SecurityAlgorithms.HmacSha512],
        ClockSkew = TimeSpan.FromSeconds(30),
        NameClaimType = TenantClaims.TenantId,
    };
}
