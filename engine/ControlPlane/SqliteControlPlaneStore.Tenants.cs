using Microsoft.Data.Sqlite;

namespace PricingOptimizer.ControlPlane;

public sealed partial class SqliteControlPlaneStore
{
    public Task CreateTenantAsync(Tenant tenant, CancellationToken cancellationToken) => RunAsync(
        "INSERT INTO tenants (tenant_id, name, plan, created_at) VALUES ($id, $name, $plan, $at)",
        p =>
        {
            p.AddWithValue("$id", tenant.TenantId);
            p.AddWithValue("$name", tenant.Name);
            p.AddWithValue("$plan", tenant.Plan);
            p.AddWithValue("$at", tenant.CreatedAt.ToUnixTimeMilliseconds());
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken);

    public async Task<Tenant?> GetTenantAsync(string tenantId, CancellationToken cancellationToken) => (await RunAsync(
        "SELECT tenant_id, name, plan, created_at FROM tenants WHERE tenant_id = $id",
        p => p.AddWithValue("$id", tenantId),
        (c, ct) => ReadAllAsync(c, ReadTenant, ct), cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<Tenant>> ListTenantsAsync(CancellationToken cancellationToken) => await RunAsync(
        "SELECT tenant_id, name, plan, created_at FROM tenants ORDER BY created_at, tenant_id",
        _ => { },
        (c, ct) => ReadAllAsync(c, ReadTenant, ct), cancellationToken);

    public async Task<bool> SetPlanAsync(string tenantId, string plan, CancellationToken cancellationToken) => await RunAsync(
        "UPDATE tenants SET plan = $plan WHERE tenant_id = $id",
        p =>
        {
            p.AddWithValue("$id", tenantId);
            p.AddWithValue("$plan", plan);
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken) == 1;

    public Task AddApiKeyAsync(ApiKeyInfo key, byte[] hash, CancellationToken cancellationToken) => RunAsync(
        "INSERT INTO api_keys (prefix, tenant_id, hash, created_at) VALUES ($prefix, $tenant, $hash, $at)",
        p =>
        {
            p.AddWithValue("$prefix", key.Prefix);
            p.AddWithValue("$tenant", key.TenantId);
            p.AddWithValue("$hash", hash);
            p.AddWithValue("$at", key.CreatedAt.ToUnixTimeMilliseconds());
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken);

    public async Task<ApiKeyInfo?> FindApiKeyAsync(byte[] hash, CancellationToken cancellationToken) => (await RunAsync(
        "SELECT prefix, tenant_id, created_at, revoked_at FROM api_keys WHERE hash = $hash",
        p => p.AddWithValue("$hash", hash),
        (c, ct) => ReadAllAsync(c, ReadKey, ct), cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync(string tenantId, CancellationToken cancellationToken) => await RunAsync(
        "SELECT prefix, tenant_id, created_at, revoked_at FROM api_keys WHERE tenant_id = $tenant ORDER BY created_at, prefix",
        p => p.AddWithValue("$tenant", tenantId),
        (c, ct) => ReadAllAsync(c, ReadKey, ct), cancellationToken);

    public async Task<bool> RevokeApiKeyAsync(string tenantId, string prefix, DateTimeOffset at, CancellationToken cancellationToken) => await RunAsync(
        "UPDATE api_keys SET revoked_at = $at WHERE tenant_id = $tenant AND prefix = $prefix AND revoked_at IS NULL",
        p =>
        {
            p.AddWithValue("$tenant", tenantId);
            p.AddWithValue("$prefix", prefix);
            p.AddWithValue("$at", at.ToUnixTimeMilliseconds());
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken) == 1;
}
