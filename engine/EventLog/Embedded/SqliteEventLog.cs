using Microsoft.Data.Sqlite;
using PricingOptimizer.Events;

namespace PricingOptimizer.EventLog.Embedded;

/// <summary>
/// The embedded event log: one SQLite file in WAL mode with <c>synchronous=FULL</c>, so an append is on disk when
/// it returns. Positions come from AUTOINCREMENT and are never reused, which keeps lake file names unique.
/// Several processes may share the file (the API appends, <c>po land</c> consumes).
/// </summary>
public sealed class SqliteEventLog : IEventLog
{
    private readonly string connectionString;
    private readonly SemaphoreSlim writeGate = new(1, 1);
    private readonly SqliteConnection writer;

    public SqliteEventLog(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Pooling = false, DefaultTimeout = 30 }.ToString();
        writer = Open();
        using var command = writer.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS events (
                position  INTEGER PRIMARY KEY AUTOINCREMENT,
                tenant_id TEXT NOT NULL,
                payload   BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS consumer_positions (
                group_id TEXT PRIMARY KEY,
                position INTEGER NOT NULL);
            """;
        command.ExecuteNonQuery();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    public string Kind => "embedded";

    internal SqliteConnection Open()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    public async Task AppendAsync(IReadOnlyList<TenantEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return;
        }

        var payloads = new byte[events.Count][];
        for (var i = 0; i < events.Count; i++)
        {
            payloads[i] = EventCodec.Encode(events[i]);
        }

        await writeGate.WaitAsync(cancellationToken);
        try
        {
            using var transaction = writer.BeginTransaction();
            using var insert = writer.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO events (tenant_id, payload) VALUES ($tenant, $payload)";
            var tenant = insert.Parameters.Add("$tenant", SqliteType.Text);
            var payload = insert.Parameters.Add("$payload", SqliteType.Blob);
            insert.Prepare();
            for (var i = 0; i < events.Count; i++)
            {
                tenant.Value = events[i].TenantId;
                payload.Value = payloads[i];
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }
        catch (SqliteException e)
        {
            throw new EventLogUnavailableException($"The embedded event log at {Path} refused the batch: {e.Message}", e);
        }
        finally
        {
            writeGate.Release();
        }
    }

    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        await writeGate.WaitAsync(cancellationToken);
        try
        {
            using var command = writer.CreateCommand();
            command.CommandText = "SELECT count(*) FROM consumer_positions";
            command.ExecuteScalar();
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
        finally
        {
            writeGate.Release();
        }
    }

    public IEventLogConsumer OpenConsumer(string groupId) => new SqliteEventLogConsumer(this, groupId);

    /// <summary>The last position appended (0 when empty).</summary>
    public long LastPosition()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT coalesce(max(position), 0) FROM events";
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>The position committed by <paramref name="groupId"/> (0 when none).</summary>
    public long CommittedPosition(string groupId)
    {
        using var connection = Open();
        return SqliteEventLogConsumer.Committed(connection, groupId);
    }

    public ValueTask DisposeAsync()
    {
        writer.Dispose();
        writeGate.Dispose();
        return ValueTask.CompletedTask;
    }
}
