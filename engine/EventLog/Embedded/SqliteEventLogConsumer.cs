using Microsoft.Data.Sqlite;

namespace PricingOptimizer.EventLog.Embedded;

/// <summary>
/// A consumer of the embedded log. The log has no partitions, so only one consumer of a group may read at a
/// time: it holds an exclusive lock file (released by the OS if the process dies); another waits as a standby.
/// </summary>
internal sealed class SqliteEventLogConsumer : IEventLogConsumer
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private readonly SqliteEventLog log;
    private readonly string groupId;
    private readonly string lockPath;
    private readonly SqliteConnection connection;
    private FileStream? groupLock;
    private long handedOut;

    public SqliteEventLogConsumer(SqliteEventLog log, string groupId)
    {
        this.log = log;
        this.groupId = groupId;
        var safe = string.Concat(groupId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        lockPath = log.Path + "." + safe + ".lock";
        connection = log.Open();
    }

    internal static long Committed(SqliteConnection connection, string groupId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT position FROM consumer_positions WHERE group_id = $group";
        command.Parameters.AddWithValue("$group", groupId);
        return command.ExecuteScalar() is long position ? position : 0;
    }

    private bool TryLead()
    {
        if (groupLock is not null)
        {
            return true;
        }

        try
        {
            groupLock = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            handedOut = Committed(connection, groupId);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    public async Task<LogBatch> ReadAsync(int maxEvents, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + maxWait;
        var raw = new List<(string, long, byte[])>();
        while (true)
        {
            if (TryLead())
            {
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT position, payload FROM events WHERE position > $after ORDER BY position LIMIT $limit";
                command.Parameters.AddWithValue("$after", handedOut);
                command.Parameters.AddWithValue("$limit", maxEvents - raw.Count);
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    var position = reader.GetInt64(0);
                    raw.Add(("log", position, (byte[])reader.GetValue(1)));
                    handedOut = position;
                }
            }

            var left = deadline - DateTime.UtcNow;
            if (raw.Count >= maxEvents || left <= TimeSpan.Zero || cancellationToken.IsCancellationRequested)
            {
                break;
            }

            await Task.Delay(left < PollInterval ? left : PollInterval, cancellationToken).ConfigureAwait(false);
        }

        return raw.Count == 0 ? LogBatch.Empty : new LogBatch(EventCodec.DecodeMany(raw), raw[^1].Item2);
    }

    public async Task CommitAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        if (batch.CommitState is not long position)
        {
            return;
        }

        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO consumer_positions (group_id, position) VALUES ($group, $position)
            ON CONFLICT (group_id) DO UPDATE SET position = max(position, excluded.position)
            """;
        command.Parameters.AddWithValue("$group", groupId);
        command.Parameters.AddWithValue("$position", position);
        command.ExecuteNonQuery();
        await log.PruneAsync(force: false, cancellationToken);
    }

    public void Dispose()
    {
        connection.Dispose();
        groupLock?.Dispose();
    }
}
