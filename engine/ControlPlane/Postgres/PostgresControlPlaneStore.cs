using System.Data.Common;
using Npgsql;

namespace PricingOptimizer.ControlPlane.Postgres;

/// <summary>
/// The control plane in PostgreSQL (Npgsql), for many API processes on many machines: migrated at start; writes to
/// experiments and plans announce themselves on <see cref="ChangesChannel"/> (LISTEN/NOTIFY) so every process drops
/// its cached copy at once.
/// </summary>
public sealed class PostgresControlPlaneStore : SqlControlPlaneStore, IAsyncDisposable, IDisposable
{
    /// <summary>The NOTIFY channel: payloads <c>experiment {tenant} {experiment}</c> and <c>tenant {tenant}</c>.</summary>
    public const string ChangesChannel = "po_control_plane";

    private readonly NpgsqlDataSource source;

    /// <exception cref="InvalidOperationException">The server cannot be reached or migrated (the message says which).</exception>
    public PostgresControlPlaneStore(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionStrings.ToNpgsql(connectionString));
        BoundWaits(builder, ConnectionStrings.ToNpgsql(connectionString));
        source = NpgsqlDataSource.Create(builder);
        try
        {
            PostgresMigrations.ApplyAsync(source, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            source.Dispose();
            throw new InvalidOperationException(
                $"the PostgreSQL control plane at {builder.Host}:{builder.Port}/{builder.Database} cannot be used: {e.Message}", e);
        }
    }

    public static int SchemaVersion => PostgresMigrations.Latest;

    /// <summary>
    /// A frozen or unreachable server must not hold a request for Npgsql's defaults (15 s to connect, 30 s a command):
    /// unless the connection string sets them, a connection gets 2 s, a command 3 s and its cancellation 500 ms, and
    /// TCP keepalives find a dead server. The API answers such a fault 503 with Retry-After (README "What the API promises").
    /// </summary>
    private static void BoundWaits(NpgsqlConnectionStringBuilder builder, string given)
    {
        var set = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = given };
        bool Has(params string[] keys) => keys.Any(set.ContainsKey);
        if (!Has("Timeout", "Connect Timeout", "Connection Timeout"))
        {
            builder.Timeout = 2;
        }

        if (!Has("Command Timeout", "CommandTimeout"))
        {
            builder.CommandTimeout = 3;
        }

        if (!Has("Cancellation Timeout", "CancellationTimeout"))
        {
            builder.CancellationTimeout = 500;
        }

        if (!Has("Keepalive", "Keep Alive"))
        {
            builder.KeepAlive = 5;
        }
    }

    /// <summary>The pool, for the change listener and the rate-limit windows sharing this server.</summary>
    public NpgsqlDataSource DataSource => source;

    public void Dispose() => source.Dispose();

    public ValueTask DisposeAsync() => source.DisposeAsync();

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) => await source.OpenConnectionAsync(cancellationToken);

    /// <summary>Announces the change on <see cref="ChangesChannel"/>: every process drops its cached copy at once.</summary>
    protected override async Task ChangedAsync(string payload, CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand("SELECT pg_notify(@channel, @payload)");
        command.Parameters.AddWithValue("channel", ChangesChannel);
        command.Parameters.AddWithValue("payload", payload);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override string InList(string parameter) => $"= ANY({parameter})";

    public override async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand("SELECT 1");
        return await command.ExecuteScalarAsync(cancellationToken) is 1;
    }
}
