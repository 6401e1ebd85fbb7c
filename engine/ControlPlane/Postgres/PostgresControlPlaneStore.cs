using Npgsql;

namespace PricingOptimizer.ControlPlane.Postgres;

/// <summary>
/// The control plane in PostgreSQL (Npgsql), for many API processes on many machines: migrated at start; writes to
/// experiments and plans announce themselves on <see cref="ChangesChannel"/> (LISTEN/NOTIFY) so every process drops
/// its cached copy at once.
/// </summary>
public sealed partial class PostgresControlPlaneStore : IControlPlaneStore, IAsyncDisposable, IDisposable
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

    private async Task<int> ExecuteAsync(string sql, Action<NpgsqlParameterCollection> bind, CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand(sql);
        bind(command.Parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Action<NpgsqlParameterCollection> bind, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand(sql);
        bind(command.Parameters);
        var result = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(map(reader));
        }

        return result;
    }

    private Task NotifyAsync(string payload, CancellationToken cancellationToken) =>
        ExecuteAsync("SELECT pg_notify(@channel, @payload)", p =>
        {
            p.AddWithValue("channel", ChangesChannel);
            p.AddWithValue("payload", payload);
        }, cancellationToken);

    private static long Ms(DateTimeOffset at) => at.ToUnixTimeMilliseconds();

    private static DateTimeOffset Time(NpgsqlDataReader r, int ordinal) => DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(ordinal));

    private static Tenant ReadTenant(NpgsqlDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2), Time(r, 3));

    private static ApiKeyInfo ReadKey(NpgsqlDataReader r) => new(r.GetString(0), r.GetString(1), Time(r, 2), r.IsDBNull(3) ? null : Time(r, 3));

    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand("SELECT 1");
        return await command.ExecuteScalarAsync(cancellationToken) is 1;
    }
}
