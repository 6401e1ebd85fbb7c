using System.Collections.Concurrent;
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
    private const int MaxEntries = 50_000;
    private static readonly TimeSpan MaxReuse = TimeSpan.FromMinutes(10);
    private readonly ConcurrentDictionary<string, (TokenValidationResult Result, DateTimeOffset Until)> validated = new(StringComparer.Ordinal);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        var now = time.GetUtcNow();
        if (validated.TryGetValue(token, out var hit) && hit.Until > now)
        {
            return new TokenValidationResult
            {
                IsValid = true,
                ClaimsIdentity = hit.Result.ClaimsIdentity.Clone(),
                SecurityToken = hit.Result.SecurityToken,
                Issuer = hit.Result.Issuer,
                TokenType = hit.Result.TokenType,
            };
        }

        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && result.SecurityToken is { } securityToken)
        {
            if (validated.Count >= MaxEntries)
            {
                validated.Clear();
            }

            var expires = new DateTimeOffset(DateTime.SpecifyKind(securityToken.ValidTo, DateTimeKind.Utc));
            validated[token] = (result, expires < now + MaxReuse ? expires : now + MaxReuse);
        }

        return result;
    }
}
