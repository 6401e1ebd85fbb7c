using Npgsql;
using PricingOptimizer.Billing;

namespace PricingOptimizer.ControlPlane.Postgres;

public sealed partial class PostgresControlPlaneStore
{
    public Task SetBillingAsync(BillingSettings settings, CancellationToken cancellationToken) => ExecuteAsync(
        """
        INSERT INTO billing_adapters (tenant_id, provider, mode, updated_at) VALUES (@tenant, @provider, @mode, @at)
        ON CONFLICT (tenant_id) DO UPDATE SET provider = excluded.provider, mode = excluded.mode, updated_at = excluded.updated_at
        """,
        p =>
        {
            p.AddWithValue("tenant", settings.TenantId);
            p.AddWithValue("provider", settings.Provider);
            p.AddWithValue("mode", settings.Mode == BillingMode.Byok ? "byok" : "managed");
            p.AddWithValue("at", Ms(settings.UpdatedAt));
        }, cancellationToken);

    public async Task<BillingSettings?> GetBillingAsync(string tenantId, CancellationToken cancellationToken) => (await QueryAsync(
        "SELECT tenant_id, provider, mode, updated_at FROM billing_adapters WHERE tenant_id = @tenant", p => p.AddWithValue("tenant", tenantId),
        r => new BillingSettings(r.GetString(0), r.GetString(1), r.GetString(2) == "byok" ? BillingMode.Byok : BillingMode.Managed, Time(r, 3)),
        cancellationToken)).FirstOrDefault();

    public async Task<bool> DeleteBillingAsync(string tenantId, CancellationToken cancellationToken) =>
        await ExecuteAsync("DELETE FROM billing_adapters WHERE tenant_id = @tenant", p => p.AddWithValue("tenant", tenantId), cancellationToken) > 0;

    public async Task AddDeadLettersAsync(IReadOnlyCollection<DeadLetter> letters, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var letter in letters)
        {
            await using var command = new NpgsqlCommand("""
                INSERT INTO dead_letters (tenant_id, provider, event_id, kind, event, error, attempts, created_at)
                VALUES (@tenant, @provider, @event_id, @kind, @event, @error, @attempts, @at)
                ON CONFLICT (tenant_id, event_id, kind) DO UPDATE SET
                    provider = excluded.provider, error = excluded.error, attempts = excluded.attempts, created_at = excluded.created_at
                """, connection, transaction);
            command.Parameters.AddWithValue("tenant", letter.TenantId);
            command.Parameters.AddWithValue("provider", letter.Provider);
            command.Parameters.AddWithValue("event_id", letter.EventId);
            command.Parameters.AddWithValue("kind", letter.Kind);
            command.Parameters.AddWithValue("event", letter.Event);
            command.Parameters.AddWithValue("error", letter.Error);
            command.Parameters.AddWithValue("attempts", letter.Attempts);
            command.Parameters.AddWithValue("at", Ms(letter.CreatedAt));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(string tenantId, int limit, CancellationToken cancellationToken) => await QueryAsync(
        "SELECT id, tenant_id, provider, event_id, kind, event, error, attempts, created_at FROM dead_letters WHERE tenant_id = @tenant ORDER BY id DESC LIMIT @limit",
        p =>
        {
            p.AddWithValue("tenant", tenantId);
            p.AddWithValue("limit", limit);
        },
        r => new DeadLetter(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6), r.GetInt32(7),
            Time(r, 8)), cancellationToken);

    public async Task<long> CountDeadLettersAsync(CancellationToken cancellationToken) =>
        (await QueryAsync("SELECT count(*) FROM dead_letters", _ => { }, r => r.GetInt64(0), cancellationToken))[0];
}
