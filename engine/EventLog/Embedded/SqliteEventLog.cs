using Microsoft.Data.Sqlite;
using PricingOptimizer.Events;

namespace PricingOptimizer.EventLog.Embedded;

/// <summary>
/// The embedded event log: one SQLite file in WAL mode with <c>synchronous=FULL</c>, so an append is on disk when
/// it returns. Positions come from AUTOINCREMENT and are never reused, which keeps lake file names unique.
/// Several processes may share the file (the API appends, <c>po land</c> consumes). Like Kafka's retention,
/// events older than the retention period are deleted — but only once every consumer group has committed them.
/// </summary>
public sealed class SqliteEventLog : IEventLog
{
    private readonly string connectionString;
    private readonly SemaphoreSlim writeGate = new(1, 1);
    private readonly SqliteConnection writer;
    private readonly TimeProvider time;
    private readonly TimeSpan retention;
    private long nextPruneTicks;

    /// <summary>Opens (creating if needed) the log at <paramref name="path"/>; <paramref name="retention"/> defaults to 7 days.</summary>
    public SqliteEventLog(string path, TimeSpan? retention = null, TimeProvider? time = null)
    {
        this.time = time ?? TimeProvider.System;
        this.retention = retention ?? TimeSpan.FromDays(7);
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Pooling = false, DefaultTimeout = 30 }.ToString();
        writer = Open();
        using var command = writer.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS events (
                position    INTEGER PRIMARY KEY AUTOINCREMENT,
                tenant_id   TEXT NOT NULL,
                payload     BLOB NOT NULL,
                appended_at INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS consumer_positions (
                group_id TEXT PRIMARY KEY,
                position INTEGER NOT NULL);
            """;
        command.ExecuteNonQuery();

        // Logs created before retention existed lack the column; their rows count as appended at the epoch.
        command.CommandText = "SELECT count(*) FROM pragma_table_info('events') WHERE name = 'appended_at'";
        if ((long)command.ExecuteScalar()! == 0)
        {
            command.CommandText = "ALTER TABLE events ADD COLUMN appended_at INTEGER NOT NULL DEFAULT 0";
            command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Deletes events older than the retention period that every consumer group has committed, a slice at a time so
    /// appends are not held up. Consumers call it after commits; it runs at most every few minutes. Returns how many it deleted.
    /// </summary>
    public async Task<int> PruneAsync(bool force, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!force && now.UtcTicks < Interlocked.Read(ref nextPruneTicks))
        {
            return 0;
        }

        Interlocked.Exchange(ref nextPruneTicks, (now + TimeSpan.FromMinutes(5)).UtcTicks);
        var deleted = 0;
        while (true)
        {
            await writeGate.WaitAsync(cancellationToken);
            int slice;
            try
            {
                using var command = writer.CreateCommand();
                command.CommandText = """
                    DELETE FROM events WHERE position IN (
                        SELECT position FROM events
                        WHERE position <= (SELECT min(position) FROM consumer_positions) AND appended_at < $cutoff
                        ORDER BY position LIMIT 20000)
                    """;
                command.Parameters.AddWithValue("$cutoff", (now - retention).ToUnixTimeSeconds());
                slice = command.ExecuteNonQuery();
            }
            finally
            {
                writeGate.Release();
            }

            deleted += slice;
            if (slice < 20000)
            {
                return deleted;
            }
        }
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
            insert.CommandText = "INSERT INTO events (tenant_id, payload, appended_at) VALUES ($tenant, $payload, $at)";
            var tenant = insert.Parameters.Add("$tenant", SqliteType.Text);
            var payload = insert.Parameters.Add("$payload", SqliteType.Blob);
            insert.Parameters.AddWithValue("$at", time.GetUtcNow().ToUnixTimeSeconds());
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
