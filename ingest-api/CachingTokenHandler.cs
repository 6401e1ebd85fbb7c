using PricingOptimizer.Caching;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace PricingOptimizer.IngestApi;

/// <summary>
/// Validates each distinct token once and reuses the result until the token expires (at most 10 minutes): a client
/// sends the same token with every request, and parsing and verifying it was a tenth of the server's time per
/// assign. A cached result is honoured only while the token is unexpired, and each request gets its own identity copy.
/// </summary>
internal sealed class CachingTokenHandler(TimeProvider time) : JsonWebTokenHandler
{
    /// <summary>The most tokens remembered; beyond it the least used are validated again.</summary>
    private const int MaxEntries = 50_000;
    private static readonly TimeSpan MaxReuse = TimeSpan.FromMinutes(10);
    private readonly TimedCache<string, TokenValidationResult> validated = new(time, MaxEntries);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (validated.TryGetFresh(token, out var hit))
        {
            return new TokenValidationResult
            {
                IsValid = true,
                ClaimsIdentity = hit.ClaimsIdentity.Clone(),
                SecurityToken = hit.SecurityToken,
                Issuer = hit.Issuer,
                TokenType = hit.TokenType,
            };
        }

        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && result.SecurityToken is { } securityToken)
        {
            var now = time.GetUtcNow();
            var expires = new DateTimeOffset(DateTime.SpecifyKind(securityToken.ValidTo, DateTimeKind.Utc));
            validated.Set(token, result, expires < now + MaxReuse ? expires : now + MaxReuse);
        }

        return result;
    }
}
