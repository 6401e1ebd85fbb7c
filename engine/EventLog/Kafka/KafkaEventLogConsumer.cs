using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace PricingOptimizer.EventLog.Kafka;

/// <summary>A member of a consumer group on the events topic; commits offsets only when told to.</summary>
internal sealed class KafkaEventLogConsumer : IEventLogConsumer
{
    private readonly IConsumer<Ignore, byte[]> consumer;

    public KafkaEventLogConsumer(KafkaOptions options, string groupId, ILogger logger)
    {
        KafkaNative.EnsureResolver();
        var config = new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = groupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = options.SessionTimeoutMs,
            IsolationLevel = IsolationLevel.ReadCommitted,
        };
        consumer = new ConsumerBuilder<Ignore, byte[]>(config)
            .SetErrorHandler((_, e) => KafkaLog.ClientError(logger, "consumer", e.Code, e.Reason))
            .SetLogHandler((_, m) => KafkaLog.ClientLog(logger, m.Name, m.Message))
            .SetPartitionsAssignedHandler((_, partitions) =>
                KafkaLog.Assigned(logger, groupId, string.Join(",", partitions.Select(p => p.Partition.Value))))
            .Build();
        consumer.Subscribe(options.Topic);
    }

    public Task<LogBatch> ReadAsync(int maxEvents, TimeSpan maxWait, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => Read(maxEvents, maxWait, cancellationToken), cancellationToken,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private LogBatch Read(int maxEvents, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var raw = new List<(string, long, byte[])>(Math.Min(maxEvents, 65_536));
        var next = new Dictionary<TopicPartition, long>();
        var deadline = DateTime.UtcNow + maxWait;
        while (raw.Count < maxEvents && !cancellationToken.IsCancellationRequested)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                break;
            }

            var result = consumer.Consume(left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100));
            if (result is null || result.IsPartitionEOF)
            {
                continue;
            }

            raw.Add((SourceName(result.Partition.Value), result.Offset.Value, result.Message.Value));
            next[result.TopicPartition] = result.Offset.Value + 1;
        }

        return raw.Count == 0 ? LogBatch.Empty : new LogBatch(EventCodec.DecodeMany(raw), next);
    }

    private readonly Dictionary<int, string> sourceNames = [];

    private string SourceName(int partition)
    {
        if (!sourceNames.TryGetValue(partition, out var name))
        {
            sourceNames[partition] = name = "p" + partition.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return name;
    }

    public Task CommitAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        if (batch.CommitState is not Dictionary<TopicPartition, long> next || next.Count == 0)
        {
            return Task.CompletedTask;
        }

        return Task.Run(() => consumer.Commit(next.Select(kv => new TopicPartitionOffset(kv.Key, kv.Value))), cancellationToken);
    }

    public void Dispose()
    {
        try
        {
            consumer.Close();
        }
        catch (KafkaException)
        {
            // Leaving the group is a courtesy; the session timeout does the same.
        }

        consumer.Dispose();
    }
}
