using Microsoft.Data.Sqlite;

namespace PricingOptimizer.ControlPlane;

public sealed partial class SqliteControlPlaneStore
{
    public async Task AddApiCallsAsync(IReadOnlyCollection<ApiCallCount> counts, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO api_calls (tenant_id, day, calls, peak_per_minute) VALUES ($tenant, $day, $calls, $peak)
            ON CONFLICT (tenant_id, day) DO UPDATE SET
                calls = calls + excluded.calls, peak_per_minute = max(peak_per_minute, excluded.peak_per_minute)
            """;
        var tenant = command.Parameters.Add("$tenant", SqliteType.Text);
        var day = command.Parameters.Add("$day", SqliteType.Text);
        var calls = command.Parameters.Add("$calls", SqliteType.Integer);
        var peak = command.Parameters.Add("$peak", SqliteType.Integer);
        foreach (var count in counts)
        {
            peak.Value = count.PeakPerMinute;
            tenant.Value = count.TenantId;
            day.Value = count.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
            calls.Value = count.Calls;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ApiCallDay>> GetApiCallsAsync(string tenantId, DateOnly from, DateOnly to, CancellationToken cancellationToken) =>
        await RunAsync(
            "SELECT day, calls, peak_per_minute FROM api_calls WHERE tenant_id = $tenant AND day BETWEEN $from AND $to ORDER BY day",
            p =>
            {
                p.AddWithValue("$tenant", tenantId);
                p.AddWithValue("$from", from.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
                p.AddWithValue("$to", to.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
            },
            (c, ct) => ReadAllAsync(c, r => new ApiCallDay(DateOnly.ParseExact(r.GetString(0), "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), r.GetInt64(1), r.GetInt64(2)), ct),
            cancellationToken);
}
