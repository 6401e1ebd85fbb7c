using Npgsql;
using NpgsqlTypes;

namespace PricingOptimizer.ControlPlane.Postgres;

public sealed partial class PostgresControlPlaneStore
{
    private const string SealedColumns = "tenant_id, provider, key_version, nonce, ciphertext, tag, last4, updated_at";

    private static SealedProviderKey ReadSealed(NpgsqlDataReader r) => new(r.GetString(0), r.GetString(1), r.GetInt32(2),
        (byte[])r.GetValue(3), (byte[])r.GetValue(4), (byte[])r.GetValue(5), r.GetString(6), Time(r, 7));

    public Task SaveProviderKeyAsync(SealedProviderKey key, CancellationToken cancellationToken) => ExecuteAsync(
        $"""
        INSERT INTO provider_keys ({SealedColumns}) VALUES (@tenant, @provider, @version, @nonce, @ciphertext, @tag, @last4, @at)
        ON CONFLICT (tenant_id, provider) DO UPDATE SET key_version = excluded.key_version, nonce = excluded.nonce,
            ciphertext = excluded.ciphertext, tag = excluded.tag, last4 = excluded.last4, updated_at = excluded.updated_at
        """,
        p =>
        {
            p.AddWithValue("tenant", key.TenantId);
            p.AddWithValue("provider", key.Provider);
            p.AddWithValue("version", key.KeyVersion);
            p.AddWithValue("nonce", key.Nonce);
            p.AddWithValue("ciphertext", key.Ciphertext);
            p.AddWithValue("tag", key.Tag);
            p.AddWithValue("last4", key.Last4);
            p.AddWithValue("at", Ms(key.UpdatedAt));
        }, cancellationToken);

    public async Task<SealedProviderKey?> GetProviderKeyAsync(string tenantId, string provider, CancellationToken cancellationToken) => (await QueryAsync(
        $"SELECT {SealedColumns} FROM provider_keys WHERE tenant_id = @tenant AND provider = @provider",
        p =>
        {
            p.AddWithValue("tenant", tenantId);
            p.AddWithValue("provider", provider);
        }, ReadSealed, cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<SealedProviderKey>> ListProviderKeysAsync(string? tenantId, CancellationToken cancellationToken) => await QueryAsync(
        $"SELECT {SealedColumns} FROM provider_keys WHERE @tenant::text IS NULL OR tenant_id = @tenant ORDER BY tenant_id, provider",
        p => p.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Text) { Value = (object?)tenantId ?? DBNull.Value }), ReadSealed, cancellationToken);

    public async Task<bool> DeleteProviderKeyAsync(string tenantId, string provider, CancellationToken cancellationToken) => await ExecuteAsync(
        "DELETE FROM provider_keys WHERE tenant_id = @tenant AND provider = @provider",
        p =>
        {
            p.AddWithValue("tenant", tenantId);
            p.AddWithValue("provider", provider);
        }, cancellationToken) == 1;
}
