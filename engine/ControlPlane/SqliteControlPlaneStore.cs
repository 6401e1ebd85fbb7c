using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace PricingOptimizer.ControlPlane;

/// <summary>The control plane in one SQLite file (WAL, safe for several processes), migrated at start.</summary>
public sealed class SqliteControlPlaneStore : SqlControlPlaneStore
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

    public override async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM schema_migrations";
        return await command.ExecuteScalarAsync(cancellationToken) is long;
    }

    protected override ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) => ValueTask.FromResult<DbConnection>(Open());

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000;";
        pragma.ExecuteNonQuery();
        return connection;
    }
}
