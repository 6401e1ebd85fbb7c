using Microsoft.Data.Sqlite;
using Npgsql;

namespace PricingOptimizer.ControlPlane;

/// <summary>
/// Tells a control-plane outage (the store cannot be reached, is shutting down, is frozen past its timeout — Npgsql
/// wraps its timeouts in an NpgsqlException — or its file is locked or gone) from a fault of ours. An outage is
/// answered 503 with <c>Retry-After</c>; ingest goes on in
/// its degraded mode (README "What the API promises").
/// </summary>
public static class ControlPlaneFaults
{
    /// <summary>How long a caller is told to wait after an outage before trying again.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    /// <summary>True when <paramref name="exception"/> (or one it wraps) says the control-plane store is unavailable.</summary>
    public static bool IsOutage(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException postgres:
                    // Class 08: connection; 53: out of resources; 57P01-57P05: shutdown, crash recovery, idle timeouts.
                    return postgres.SqlState.StartsWith("08", StringComparison.Ordinal) || postgres.SqlState.StartsWith("53", StringComparison.Ordinal)
                        || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal);
                case NpgsqlException:
                    // Npgsql's own: the server could not be reached, the connection broke, a command timed out.
                    return true;
                case SqliteException sqlite:
                    // SQLITE_BUSY, LOCKED, IOERR, CORRUPT, FULL, CANTOPEN.
                    return sqlite.SqliteErrorCode is 5 or 6 or 10 or 11 or 13 or 14;
            }
        }

        return false;
    }
}
