using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;
using PricingOptimizer.Lake;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.IngestApi;

/// <summary>Token checks beyond the signature, and 401 answers as problem+json that say what was wrong.</summary>
internal static class TenantTokenEvents
{
    public static JwtBearerEvents Create() => new()
    {
        OnTokenValidated = context =>
        {
            var tenant = context.Principal?.FindFirst(TenantClaims.TenantId)?.Value;
            if (!LakeLayout.IsValidTenantId(tenant))
            {
                context.Fail("the token carries no valid tenant_id claim");
            }

            return Task.CompletedTask;
        },
        OnChallenge = async context =>
        {
            context.HandleResponse();
            var sent = context.Request.Headers.Authorization.ToString();
            var detail = context.AuthenticateFailure switch
            {
                _ when sent.StartsWith("Bearer po_", StringComparison.OrdinalIgnoreCase) =>
                    "this is an API key, not a token: exchange it at POST /v1/auth/token with {\"api_key\": \"po_...\"} and send the access_token it returns",
                null => "send 'Authorization: Bearer <token>'",
                SecurityTokenExpiredException => "the token has expired",
                SecurityTokenInvalidAudienceException => "the token is not for this audience",
                SecurityTokenInvalidIssuerException => "the token is from an unknown issuer",
                SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "the token's signature does not verify",
                SecurityTokenException or ArgumentException => "the token is not valid",
                var failure => failure.Message,
            };
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = context.AuthenticateFailure is null
                ? "Bearer"
                : $"Bearer error=\"invalid_token\", error_description=\"{detail}\"";
            await Results.Problem(statusCode: 401, title: "Unauthorized", detail: detail).ExecuteAsync(context.HttpContext);
        },
    };
}
