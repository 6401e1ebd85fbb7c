using System.ComponentModel.DataAnnotations;

namespace PricingOptimizer.Tenancy;

/// <summary>Configuration section <c>Auth</c>.</summary>
public sealed class AuthOptions : IValidatableObject
{
    public const string Section = "Auth";

    /// <summary>
    /// Used when no <see cref="SigningKey"/> is configured, so the demo runs out of the box. Anyone who reads this
    /// file can mint tokens with it: the service warns loudly at start.
    /// </summary>
    public const string DevelopmentSigningKey = "ZGV2ZWxvcG1lbnQtb25seS1zaWduaW5nLWtleS1wcmljaW5nLW9wdGltaXplcg==";

    /// <summary>Base64 of at least 32 bytes (HS256).</summary>
    public string? SigningKey { get; set; }

    [Required] public string Issuer { get; set; } = "pricing-optimizer";

    [Required] public string Audience { get; set; } = "pricing-optimizer-api";

    [Range(1, 24 * 365)] public int TokenLifetimeHours { get; set; } = 24;

    /// <summary>Admin credential for <c>X-Admin-Key</c>; unset turns admin endpoints off.</summary>
    public string? AdminKey { get; set; }

    public bool UsesDevelopmentKey => string.IsNullOrWhiteSpace(SigningKey);

    public byte[] SigningKeyBytes() => Convert.FromBase64String(UsesDevelopmentKey ? DevelopmentSigningKey : SigningKey!);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (UsesDevelopmentKey)
        {
            yield break;
        }

        byte[]? bytes = null;
        try
        {
            bytes = Convert.FromBase64String(SigningKey!);
        }
        catch (FormatException)
        {
        }

        if (bytes is null)
        {
            yield return new ValidationResult("Auth:SigningKey must be base64", [nameof(SigningKey)]);
        }
        else if (bytes.Length < 32)
        {
            yield return new ValidationResult($"Auth:SigningKey must decode to at least 32 bytes (it has {bytes.Length})", [nameof(SigningKey)]);
        }
    }
}
