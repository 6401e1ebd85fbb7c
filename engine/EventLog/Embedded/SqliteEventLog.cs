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

    /// <summary>
    /// Group commit: every caller queues its batch; whoever holds the writer writes all queued batches in one
    /// transaction (one fsync) and completes them together. Under concurrent load many small appends share a sync.
    /// </summary>
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

        var item = new PendingAppend(events, payloads, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        pending.Enqueue(item);
        await writeGate.WaitAsync(cancellationToken);
        try
        {
            if (!item.Done.Task.IsCompleted)
            {
                WritePending();
            }
        }
        finally
        {
            writeGate.Release();
        }

        await item.Done.Task;
    }

    private sealed record PendingAppend(IReadOnlyList<TenantEvent> Events, byte[][] Payloads, TaskCompletionSource Done);

    private readonly System.Collections.Concurrent.ConcurrentQueue<PendingAppend> pending = new();

    /// <summary>Writes every queued batch in one transaction; the caller holds <see cref="writeGate"/>.</summary>
    private void WritePending()
    {
        var taken = new List<PendingAppend>();
        while (pending.TryDequeue(out var next))
        {
            taken.Add(next);
        }

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
            foreach (var append in taken)
            {
                for (var i = 0; i < append.Events.Count; i++)
                {
                    tenant.Value = append.Events[i].TenantId;
                    payload.Value = append.Payloads[i];
                    insert.ExecuteNonQuery();
                }
            }

            transaction.Commit();
            foreach (var append in taken)
            {
                append.Done.TrySetResult();
            }
        }
        catch (SqliteException e)
        {
            var failure = new EventLogUnavailableException($"The embedded event log at {Path} refused the batch: {e.Message}", e);
            foreach (var append in taken)
            {
                append.Done.TrySetException(failure);
            }
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

    public async Task<ConsumerLag> LagAsync(string groupId, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT count(*), min(appended_at) FROM events
            WHERE position > coalesce((SELECT position FROM consumer_positions WHERE group_id = $group), 0)
            """;
        command.Parameters.AddWithValue("$group", groupId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var pending = reader.GetInt64(0);
        return new ConsumerLag(pending, pending == 0 || reader.IsDBNull(1) ? null : DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(1)));
    }

    /// <summary>The last position appended (0 when empty).</summary>
    public long LastPosition()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT coalesce(max(position), 0) FROM events";
        return (long)command.ExecuteScalar()!;
    }

    public ValueTask DisposeAsync()
    {
        writer.Dispose();
        writeGate.Dispose();
        return ValueTask.CompletedTask;
    }
}
