using PricingOptimizer.Tenancy;

namespace PricingOptimizer.ControlPlane.Postgres;

/// <summary>
/// Request counts in PostgreSQL: one budget per tenant for every API process using the same control plane. Each
/// request is one atomic upsert that returns the window's count; windows older than the previous one are deleted
/// when a process first counts in a new window.
/// </summary>
public sealed class PostgresRequestWindows(PostgresControlPlaneStore store) : IRequestWindows
{
    private long newest;

    public async ValueTask<long> IncrementAsync(string partition, DateTimeOffset windowStart, CancellationToken cancellationToken)
    {
        var start = windowStart.ToUnixTimeMilliseconds();
        var seen = Interlocked.Read(ref newest);
        if (seen < start && Interlocked.CompareExchange(ref newest, start, seen) == seen)
        {
            // The first request of a new window in this process: windows before the previous one are no longer asked for.
            await using var clean = store.DataSource.CreateCommand("DELETE FROM request_windows WHERE window_start < @before");
            clean.Parameters.AddWithValue("before", start - (long)TimeSpan.FromMinutes(2).TotalMilliseconds);
            await clean.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var command = store.DataSource.CreateCommand("""
            INSERT INTO request_windows (partition, window_start, count) VALUES (@partition, @start, 1)
            ON CONFLICT (partition, window_start) DO UPDATE SET count = request_windows.count + 1
            RETURNING count
            """);
        command.Parameters.AddWithValue("partition", partition);
        command.Parameters.AddWithValue("start", start);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
