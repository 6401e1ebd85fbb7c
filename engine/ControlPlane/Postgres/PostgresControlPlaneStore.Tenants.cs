
namespace PricingOptimizer.ControlPlane.Postgres;

public sealed partial class PostgresControlPlaneStore
{
    public Task CreateTenantAsync(Tenant tenant, CancellationToken cancellationToken) => ExecuteAsync(
        "INSERT INTO tenants (tenant_id, name, plan, created_at) VALUES (@id, @name, @plan, @at)",
        p =>
        {
            p.AddWithValue("id", tenant.TenantId);
            p.AddWithValue("name", tenant.Name);
            p.AddWithValue("plan", tenant.Plan);
            p.AddWithValue("at", Ms(tenant.CreatedAt));
        }, cancellationToken);

    public async Task<Tenant?> GetTenantAsync(string tenantId, CancellationToken cancellationToken) => (await QueryAsync(
        "SELECT tenant_id, name, plan, created_at FROM tenants WHERE tenant_id = @id", p => p.AddWithValue("id", tenantId), ReadTenant,
        cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<Tenant>> ListTenantsAsync(CancellationToken cancellationToken) => await QueryAsync(
        "SELECT tenant_id, name, plan, created_at FROM tenants ORDER BY created_at, tenant_id", _ => { }, ReadTenant, cancellationToken);

    public async Task<bool> SetPlanAsync(string tenantId, string plan, CancellationToken cancellationToken)
    {
        var changed = await ExecuteAsync("UPDATE tenants SET plan = @plan WHERE tenant_id = @id", p =>
        {
            p.AddWithValue("id", tenantId);
            p.AddWithValue("plan", plan);
        }, cancellationToken) == 1;
        if (changed)
        {
            await NotifyAsync("tenant " + tenantId, cancellationToken);
        }

        return changed;
    }

    public Task AddApiKeyAsync(ApiKeyInfo key, byte[] hash, CancellationToken cancellationToken) => ExecuteAsync(
        "INSERT INTO api_keys (prefix, tenant_id, hash, created_at) VALUES (@prefix, @tenant, @hash, @at)",
        p =>
        {
            p.AddWithValue("prefix", key.Prefix);
            p.AddWithValue("tenant", key.TenantId);
            p.AddWithValue("hash", hash);
            p.AddWithValue("at", Ms(key.CreatedAt));
        }, cancellationToken);

    public async Task<ApiKeyInfo?> FindApiKeyAsync(byte[] hash, CancellationToken cancellationToken) => (await QueryAsync(
        "SELECT prefix, tenant_id, created_at, revoked_at FROM api_keys WHERE hash = @hash", p => p.AddWithValue("hash", hash), ReadKey,
        cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync(string tenantId, CancellationToken cancellationToken) => await QueryAsync(
        "SELECT prefix, tenant_id, created_at, revoked_at FROM api_keys WHERE tenant_id = @tenant ORDER BY created_at, prefix",
        p => p.AddWithValue("tenant", tenantId), ReadKey, cancellationToken);

    public async Task<bool> RevokeApiKeyAsync(string tenantId, string prefix, DateTimeOffset at, CancellationToken cancellationToken) => await ExecuteAsync(
        "UPDATE api_keys SET revoked_at = @at WHERE tenant_id = @tenant AND prefix = @prefix AND revoked_at IS NULL",
        p =>
        {
            p.AddWithValue("tenant", tenantId);
            p.AddWithValue("prefix", prefix);
            p.AddWithValue("at", Ms(at));
        }, cancellationToken) == 1;
}
