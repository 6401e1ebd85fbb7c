using Microsoft.Data.Sqlite;

namespace PricingOptimizer.ControlPlane;

public sealed partial class SqliteControlPlaneStore
{
    public Task SetBillingAsync(Billing.BillingSettings settings, CancellationToken cancellationToken) => RunAsync(
        "INSERT OR REPLACE INTO billing_adapters (tenant_id, provider, mode, updated_at) VALUES ($tenant, $provider, $mode, $at)",
        p =>
        {
            p.AddWithValue("$tenant", settings.TenantId);
            p.AddWithValue("$provider", settings.Provider);
            p.AddWithValue("$mode", settings.Mode == Billing.BillingMode.Byok ? "byok" : "managed");
            p.AddWithValue("$at", settings.UpdatedAt.ToUnixTimeMilliseconds());
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken);

    public async Task<Billing.BillingSettings?> GetBillingAsync(string tenantId, CancellationToken cancellationToken) => (await RunAsync(
        "SELECT tenant_id, provider, mode, updated_at FROM billing_adapters WHERE tenant_id = $tenant",
        p => p.AddWithValue("$tenant", tenantId),
        (c, ct) => ReadAllAsync(c, r => new Billing.BillingSettings(r.GetString(0), r.GetString(1),
            r.GetString(2) == "byok" ? Billing.BillingMode.Byok : Billing.BillingMode.Managed, DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3))), ct),
        cancellationToken)).FirstOrDefault();

    public async Task<bool> DeleteBillingAsync(string tenantId, CancellationToken cancellationToken) => await RunAsync(
        "DELETE FROM billing_adapters WHERE tenant_id = $tenant", p => p.AddWithValue("$tenant", tenantId),
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken) > 0;

    public async Task AddDeadLettersAsync(IReadOnlyCollection<Billing.DeadLetter> letters, CancellationToken cancellationToken)
    {
        foreach (var letter in letters)
        {
            await RunAsync(
                """
                INSERT INTO dead_letters (tenant_id, provider, event_id, kind, event, error, attempts, created_at)
                VALUES ($tenant, $provider, $event_id, $kind, $event, $error, $attempts, $at)
                ON CONFLICT (tenant_id, event_id, kind) DO UPDATE SET
                    provider = excluded.provider, error = excluded.error, attempts = excluded.attempts, created_at = excluded.created_at
                """,
                p =>
                {
                    p.AddWithValue("$tenant", letter.TenantId);
                    p.AddWithValue("$provider", letter.Provider);
                    p.AddWithValue("$event_id", letter.EventId);
                    p.AddWithValue("$kind", letter.Kind);
                    p.AddWithValue("$event", letter.Event);
                    p.AddWithValue("$error", letter.Error);
                    p.AddWithValue("$attempts", letter.Attempts);
                    p.AddWithValue("$at", letter.CreatedAt.ToUnixTimeMilliseconds());
                },
                (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken);
        }
    }

    public async Task<IReadOnlyList<Billing.DeadLetter>> ListDeadLettersAsync(string tenantId, int limit, CancellationToken cancellationToken) => await RunAsync(
        "SELECT id, tenant_id, provider, event_id, kind, event, error, attempts, created_at FROM dead_letters WHERE tenant_id = $tenant ORDER BY id DESC LIMIT $limit",
        p =>
        {
            p.AddWithValue("$tenant", tenantId);
            p.AddWithValue("$limit", limit);
        },
        (c, ct) => ReadAllAsync(c, r => new Billing.DeadLetter(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
            r.GetString(6), r.GetInt32(7), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(8))), ct),
        cancellationToken);

    public async Task<long> CountDeadLettersAsync(CancellationToken cancellationToken) => (await RunAsync(
        "SELECT count(*) FROM dead_letters", _ => { }, (c, ct) => ReadAllAsync(c, r => r.GetInt64(0), ct), cancellationToken))[0];
}
