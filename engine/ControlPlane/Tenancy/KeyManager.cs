using PricingOptimizer.Errors;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using PricingOptimizer.ControlPlane;

namespace PricingOptimizer.Tenancy;

/// <summary>
/// BYOK provider keys (Stripe, Paid.ai), sealed with AES-256-GCM under a versioned master key. The tenant, provider
/// and version are bound in as associated data, so a sealed key cannot be moved to another tenant unnoticed.
/// Plain keys are handed only to billing adapters; responses and logs carry at most the last 4 characters.
/// </summary>
public sealed class KeyManager(IProviderKeyStore store, IOptions<KeyManagerOptions> options, TimeProvider time)
{
    /// <summary>Providers a tenant can bring a key for.</summary>
    public static readonly IReadOnlySet<string> Providers = new HashSet<string>(StringComparer.Ordinal) { "stripe", "paid_ai" };

    /// <summary>What may be shown of a stored key.</summary>
    public sealed record ProviderKeySummary(string Provider, string Last4, int KeyVersion, DateTimeOffset UpdatedAt);

    public bool Enabled => options.Value.Enabled;

    private void EnsureEnabled()
    {
        if (!Enabled)
        {
            throw new InvalidInputException(
                "provider keys (BYOK) are off on this deployment: the operator has not set KeyManager:MasterKey", "provider");
        }
    }

    private static void CheckProvider(string provider)
    {
        if (!Providers.Contains(provider))
        {
            throw new NotFoundException($"unknown provider '{provider}'; known: {string.Join(", ", Providers)}", "provider");
        }
    }

    public async Task<ProviderKeySummary> StoreAsync(string tenantId, string provider, string? key, CancellationToken cancellationToken)
    {
        CheckProvider(provider);
        EnsureEnabled();
        if (string.IsNullOrEmpty(key) || key.Length > 1024 || key.Any(char.IsWhiteSpace))
        {
            throw new InvalidInputException("key is required: 1-1024 characters without white space", "key");
        }

        var sealedKey = Seal(tenantId, provider, key, options.Value.MasterKeyVersion);
        await store.SaveProviderKeyAsync(sealedKey, cancellationToken);
        return Summary(sealedKey);
    }

    public async Task<IReadOnlyList<ProviderKeySummary>> ListAsync(string tenantId, CancellationToken cancellationToken) =>
        (await store.ListProviderKeysAsync(tenantId, cancellationToken)).Select(Summary).ToList();

    public async Task DeleteAsync(string tenantId, string provider, CancellationToken cancellationToken)
    {
        CheckProvider(provider);
        if (!await store.DeleteProviderKeyAsync(tenantId, provider, cancellationToken))
        {
            throw new NotFoundException($"no {provider} key stored");
        }
    }

    /// <summary>The plain key, for a billing adapter; null when the tenant stored none.</summary>
    /// <exception cref="CryptographicException">The sealed key was tampered with, or sealed under a master key this deployment lacks.</exception>
    public async Task<string?> OpenAsync(string tenantId, string provider, CancellationToken cancellationToken)
    {
        CheckProvider(provider);
        var sealedKey = await store.GetProviderKeyAsync(tenantId, provider, cancellationToken);
        return sealedKey is null ? null : Open(sealedKey);
    }

    /// <summary>Re-seals every stored key under the current master key version. Returns how many it re-sealed.</summary>
    public async Task<int> RotateAsync(CancellationToken cancellationToken)
    {
        EnsureEnabled();
        var current = options.Value.MasterKeyVersion;
        var count = 0;
        var unreadable = new List<SealedProviderKey>();
        foreach (var sealedKey in await store.ListProviderKeysAsync(null, cancellationToken))
        {
            if (sealedKey.KeyVersion == current)
            {
                continue;
            }

            string key;
            try
            {
                key = Open(sealedKey);
            }
            catch (CryptographicException)
            {
                // One key sealed under a master key this deployment lacks must not stop the others from moving.
                unreadable.Add(sealedKey);
                continue;
            }

            await store.SaveProviderKeyAsync(Seal(sealedKey.TenantId, sealedKey.Provider, key, current), cancellationToken);
            count++;
        }

        if (unreadable.Count > 0)
        {
            var versions = string.Join(", ", unreadable.Select(k => k.KeyVersion).Distinct().Order());
            throw new ConflictException(
                $"re-sealed {count} keys; {unreadable.Count} cannot be opened (sealed under master key version {versions}, not configured here, or " +
                    $"tampered with): " +
                $"add KeyManager:PreviousMasterKeys:{{version}} and rotate again, or have those tenants store their keys anew", "KeyManager:PreviousMasterKeys");
        }

        return count;
    }

    private SealedProviderKey Seal(string tenantId, string provider, string key, int version)
    {
        var master = MasterKey(version);
        var plain = Encoding.UTF8.GetBytes(key);
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var ciphertext = new byte[plain.Length];
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        using (var aes = new AesGcm(master, tag.Length))
        {
            aes.Encrypt(nonce, plain, ciphertext, tag, AssociatedData(tenantId, provider, version));
        }

        CryptographicOperations.ZeroMemory(plain);
        return new SealedProviderKey(tenantId, provider, version, nonce, ciphertext, tag, key[^Math.Min(4, key.Length)..], time.GetUtcNow());
    }

    private string Open(SealedProviderKey sealedKey)
    {
        var plain = new byte[sealedKey.Ciphertext.Length];
        try
        {
            using var aes = new AesGcm(MasterKey(sealedKey.KeyVersion), sealedKey.Tag.Length);
            aes.Decrypt(sealedKey.Nonce, sealedKey.Ciphertext, sealedKey.Tag, plain,
                AssociatedData(sealedKey.TenantId, sealedKey.Provider, sealedKey.KeyVersion));
            return Encoding.UTF8.GetString(plain);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new CryptographicException(
                $"The {sealedKey.Provider} key of tenant {sealedKey.TenantId} failed authentication: it was tampered with, or the master key of " +
                    $"version {sealedKey.KeyVersion} is wrong.", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    private byte[] MasterKey(int version) =>
        options.Value.Keys().TryGetValue(version, out var key)
            ? key
            : throw new CryptographicException($"No master key of version {version} is configured (KeyManager:MasterKeyVersion or " +
                $"KeyManager:PreviousMasterKeys).");

    private static byte[] AssociatedData(string tenantId, string provider, int version) =>
        Encoding.UTF8.GetBytes($"{tenantId}/{provider}/{version}");

    private static ProviderKeySummary Summary(SealedProviderKey k) => new(k.Provider, k.Last4, k.KeyVersion, k.UpdatedAt);
}
