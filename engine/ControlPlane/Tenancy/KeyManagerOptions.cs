using System.ComponentModel.DataAnnotations;

namespace PricingOptimizer.Tenancy;

/// <summary>
/// Configuration section <c>KeyManager</c>. <see cref="MasterKey"/> seals BYOK provider keys; unset turns BYOK off.
/// To rotate: move the current key to <c>PreviousMasterKeys:{version}</c>, set a new <see cref="MasterKey"/> with a
/// higher <see cref="MasterKeyVersion"/>, start, and call the admin rotation endpoint.
/// </summary>
public sealed class KeyManagerOptions : IValidatableObject
{
    public const string Section = "KeyManager";

    /// <summary>Base64 of exactly 32 bytes (AES-256).</summary>
    public string? MasterKey { get; set; }

    [Range(1, int.MaxValue)] public int MasterKeyVersion { get; set; } = 1;

    /// <summary>Older master keys by version, so keys sealed under them still open until rotation re-seals them.</summary>
    public Dictionary<string, string> PreviousMasterKeys { get; set; } = [];

    public bool Enabled => !string.IsNullOrWhiteSpace(MasterKey);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Enabled && Decode(MasterKey!) is { } problem)
        {
            yield return new ValidationResult($"KeyManager:MasterKey {problem}", [nameof(MasterKey)]);
        }

        foreach (var (version, key) in PreviousMasterKeys)
        {
            if (!int.TryParse(version, out var v) || v < 1 || v == MasterKeyVersion)
            {
                yield return new ValidationResult($"KeyManager:PreviousMasterKeys:{version} must be a positive version other than MasterKeyVersion");
            }
            else if (Decode(key) is { } previousProblem)
            {
                yield return new ValidationResult($"KeyManager:PreviousMasterKeys:{version} {previousProblem}");
            }
        }
    }

    private static string? Decode(string base64)
    {
        try
        {
            var length = Convert.FromBase64String(base64).Length;
            return length == 32 ? null : $"must be base64 of exactly 32 bytes (AES-256); it decodes to {length} bytes";
        }
        catch (FormatException)
        {
            return "must be base64 of exactly 32 bytes (AES-256); it is not valid base64";
        }
    }

    /// <summary>Every master key by version, the current one included.</summary>
    public IReadOnlyDictionary<int, byte[]> Keys()
    {
        var keys = PreviousMasterKeys.ToDictionary(kv => int.Parse(kv.Key, System.Globalization.CultureInfo.InvariantCulture),
            kv => Convert.FromBase64String(kv.Value));
        if (Enabled)
        {
            keys[MasterKeyVersion] = Convert.FromBase64String(MasterKey!);
        }

        return keys;
    }
}
