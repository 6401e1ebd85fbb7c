using Microsoft.Data.Sqlite;

namespace PricingOptimizer.ControlPlane;

public sealed partial class SqliteControlPlaneStore
{
    private static SealedProviderKey ReadSealed(SqliteDataReader r) => new(r.GetString(0), r.GetString(1), r.GetInt32(2),
        (byte[])r.GetValue(3), (byte[])r.GetValue(4), (byte[])r.GetValue(5), r.GetString(6), Time(r, 7));

    private const string SealedColumns = "tenant_id, provider, key_version, nonce, ciphertext, tag, last4, updated_at";

    public Task SaveProviderKeyAsync(SealedProviderKey key, CancellationToken cancellationToken) => RunAsync(
        $"INSERT OR REPLACE INTO provider_keys ({SealedColumns}) VALUES ($tenant, $provider, $version, $nonce, $ciphertext, $tag, $last4, $at)",
        p =>
        {
            p.AddWithValue("$tenant", key.TenantId);
            p.AddWithValue("$provider", key.Provider);
            p.AddWithValue("$version", key.KeyVersion);
            p.AddWithValue("$nonce", key.Nonce);
            p.AddWithValue("$ciphertext", key.Ciphertext);
            p.AddWithValue("$tag", key.Tag);
            p.AddWithValue("$last4", key.Last4);
            p.AddWithValue("$at", key.UpdatedAt.ToUnixTimeMilliseconds());
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken);

    public async Task<SealedProviderKey?> GetProviderKeyAsync(string tenantId, string provider, CancellationToken cancellationToken) => (await RunAsync(
        $"SELECT {SealedColumns} FROM provider_keys WHERE tenant_id = $tenant AND provider = $provider",
        p =>
        {
            p.AddWithValue("$tenant", tenantId);
            p.AddWithValue("$provider", provider);
        },
        (c, ct) => ReadAllAsync(c, ReadSealed, ct), cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<SealedProviderKey>> ListProviderKeysAsync(string? tenantId, CancellationToken cancellationToken) => await RunAsync(
        $"SELECT {SealedColumns} FROM provider_keys WHERE $tenant IS NULL OR tenant_id = $tenant ORDER BY tenant_id, provider",
        p => p.AddWithValue("$tenant", (object?)tenantId ?? DBNull.Value),
        (c, ct) => ReadAllAsync(c, ReadSealed, ct), cancellationToken);

    public async Task<bool> DeleteProviderKeyAsync(string tenantId, string provider, CancellationToken cancellationToken) => await RunAsync(
        "DELETE FROM provider_keys WHERE tenant_id = $tenant AND provider = $provider",
        p =>
        {
            p.AddWithValue("$tenant", tenantId);
            p.AddWithValue("$provider", provider);
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken) == 1;
}
