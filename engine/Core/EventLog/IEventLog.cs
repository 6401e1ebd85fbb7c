using PricingOptimizer.Events;

namespace PricingOptimizer.EventLog;

/// <summary>
/// The durable event log between the ingest API and the lander (README "Scaling out"): Kafka when configured,
/// otherwise an embedded SQLite file.
/// </summary>
public interface IEventLog : IAsyncDisposable
{
    /// <summary>A short name for logs and the readiness probe: "kafka" or "embedded".</summary>
    string Kind { get; }

    /// <summary>
    /// Appends the batch and returns only once every event in it is durable.
    /// </summary>
    /// <exception cref="EventLogUnavailableException">The log cannot take the batch now; nothing may be assumed kept.</exception>
    Task AppendAsync(IReadOnlyList<TenantEvent> events, CancellationToken cancellationToken);

    /// <summary>True when the log answers now.</summary>
    Task<bool> IsReachableAsync(CancellationToken cancellationToken);

    /// <summary>
    /// How far the consumer group <paramref name="groupId"/> is behind: events appended and not yet committed by it, and
    /// when the oldest of them was appended (null when none is pending).
    /// </summary>
    Task<ConsumerLag> LagAsync(string groupId, CancellationToken cancellationToken);

    /// <summary>Opens a consumer of the consumer group <paramref name="groupId"/>, which resumes from the group's committed positions.</summary>
    IEventLogConsumer OpenConsumer(string groupId);
}

/// <summary>A consumer group's backlog: events not yet committed, and when the oldest of them was appended.</summary>
public readonly record struct ConsumerLag(long Pending, DateTimeOffset? OldestAppendedAt);

/// <summary>Reads the log in batches and commits positions once what it read is safely elsewhere.</summary>
public interface IEventLogConsumer : IDisposable
{
    /// <summary>
    /// Waits up to <paramref name="maxWait"/> to gather up to <paramref name="maxEvents"/> events after the
    /// positions this consumer has handed out; an empty batch when none came.
    /// </summary>
    Task<LogBatch> ReadAsync(int maxEvents, TimeSpan maxWait, CancellationToken cancellationToken);

    /// <summary>Marks everything in <paramref name="batch"/> as done for the group.</summary>
    Task CommitAsync(LogBatch batch, CancellationToken cancellationToken);
}

/// <summary>One record of the log: the source (partition) and position it has there, and the event.</summary>
/// <param name="Source">"log" for the embedded log, "p{n}" for Kafka partition n; part of the lake file name.</param>
/// <param name="Position">Position within the source, increasing.</param>
/// <param name="Item">The event.</param>
public readonly record struct LogRecord(string Source, long Position, TenantEvent Item);

/// <summary>Records read together, in log order within each source.</summary>
public sealed class LogBatch(IReadOnlyList<LogRecord> records, object? commitState = null)
{
    public static LogBatch Empty { get; } = new([]);

    public IReadOnlyList<LogRecord> Records { get; } = records;

    /// <summary>What the log needs to commit this batch (offsets, the last position).</summary>
    /// <summary>What the log that read the batch needs to commit it (its own token; null for an empty batch).</summary>
    public object? CommitState { get; } = commitState;

    public int Count => Records.Count;
}

/// <summary>The log cannot take events now (Kafka down, disk full); the caller should try again later.</summary>
public sealed class EventLogUnavailableException(string message, Exception? inner = null) : Errors.UnavailableException(message, inner);
