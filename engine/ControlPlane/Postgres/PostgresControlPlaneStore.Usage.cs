using System.Globalization;
using Npgsql;

namespace PricingOptimizer.ControlPlane.Postgres;

public sealed partial class PostgresControlPlaneStore
{
    public async Task AddApiCallsAsync(IReadOnlyCollection<ApiCallCount> counts, CancellationToken cancellationToken)
    {
        if (counts.Count == 0)
        {
            return;
        }

        await using var command = source.CreateCommand("""
            INSERT INTO api_calls (tenant_id, day, calls, peak_per_minute)
            SELECT * FROM unnest(@tenants, @days, @calls, @peaks)
            ON CONFLICT (tenant_id, day) DO UPDATE SET
                calls = api_calls.calls + excluded.calls, peak_per_minute = greatest(api_calls.peak_per_minute, excluded.peak_per_minute)
            """);
        // One row per (tenant, day) in a statement: ON CONFLICT cannot touch a row twice.
        var merged = counts.GroupBy(c => (c.TenantId, c.Day)).Select(g => (g.Key.TenantId, g.Key.Day, Calls: g.Sum(c => c.Calls), Peak: g.Max(c => c.PeakPerMinute))).ToList();
        command.Parameters.AddWithValue("tenants", merged.Select(c => c.TenantId).ToArray());
        command.Parameters.AddWithValue("days", merged.Select(c => c.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).ToArray());
        command.Parameters.AddWithValue("calls", merged.Select(c => c.Calls).ToArray());
        command.Parameters.AddWithValue("peaks", merged.Select(c => c.Peak).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ApiCallDay>> GetApiCallsAsync(string tenantId, DateOnly from, DateOnly to, CancellationToken cancellationToken) => await QueryAsync(
        "SELECT day, calls, peak_per_minute FROM api_calls WHERE tenant_id = @tenant AND day BETWEEN @from AND @to ORDER BY day",
        p =>
        {
            p.AddWithValue("tenant", tenantId);
            p.AddWithValue("from", from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            p.AddWithValue("to", to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        },
        r => new ApiCallDay(DateOnly.ParseExact(r.GetString(0), "yyyy-MM-dd", CultureInfo.InvariantCulture), r.GetInt64(1), r.GetInt64(2)), cancellationToken);
}
