using Microsoft.Data.Sqlite;

namespace PricingOptimizer.ControlPlane;

/// <summary>The control plane in one SQLite file (WAL, safe for several processes), migrated at start.</summary>
public sealed partial class SqliteControlPlaneStore : IControlPlaneStore
{
    private readonly string connectionString;

    public SqliteControlPlaneStore(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString) { Pooling = true, DefaultTimeout = 30 };
        if (!string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(builder.DataSource))!);
        }

        this.connectionString = builder.ToString();
        using var connection = Open();
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            wal.ExecuteNonQuery();
        }

        SqliteMigrations.Apply(connection);
    }

    /// <summary>The schema version after start.</summary>
    public static int SchemaVersion => SqliteMigrations.Latest;

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    private async Task<T> RunAsync<T>(string sql, Action<SqliteParameterCollection> bind, Func<SqliteCommand, CancellationToken, Task<T>> run,
        CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        bind(command.Parameters);
        return await run(command, cancellationToken);
    }

    private static async Task<List<T>> ReadAllAsync<T>(SqliteCommand command, Func<SqliteDataReader, T> map, CancellationToken cancellationToken)
    {
        var result = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(map(reader));
        }

        return result;
    }

    private static DateTimeOffset Time(SqliteDataReader reader, int ordinal) => DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    private static Tenant ReadTenant(SqliteDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2), Time(r, 3));

    private static ApiKeyInfo ReadKey(SqliteDataReader r) =>
        new(r.GetString(0), r.GetString(1), Time(r, 2), r.IsDBNull(3) ? null : Time(r, 3));

    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken) =>
        await RunAsync("SELECT count(*) FROM schema_migrations", _ => { }, async (c, ct) => await c.ExecuteScalarAsync(ct), cancellationToken) is long;
}
