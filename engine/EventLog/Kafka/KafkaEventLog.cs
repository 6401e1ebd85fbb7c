using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using PricingOptimizer.Events;

namespace PricingOptimizer.EventLog.Kafka;

/// <summary>
/// The event log on Kafka: an idempotent producer with <c>acks=all</c>, keyed by tenant/experiment/user so that
/// one user's events stay ordered; consumers are a consumer group, so several landers share the partitions.
/// </summary>
public sealed class KafkaEventLog : IEventLog
{
    private readonly KafkaOptions options;
    private readonly ILogger logger;
    private readonly Lock gate = new();
    private IProducer<string, byte[]> producer;

    public KafkaEventLog(KafkaOptions options, ILogger<KafkaEventLog> logger)
    {
        if (!options.Enabled)
        {
            throw new ArgumentException("Kafka:BootstrapServers is not set", nameof(options));
        }

        KafkaNative.EnsureResolver();
        this.options = options;
        this.logger = logger;
        producer = BuildProducer();
    }

    public string Kind => "kafka";

    public string Topic => options.Topic;

    private IProducer<string, byte[]> BuildProducer()
    {
        var config = new ProducerConfig
        {
            BootstrapServers = options.BootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = options.LingerMs,
            MessageTimeoutMs = options.MessageTimeoutMs,
            QueueBufferingMaxMessages = 1_000_000,
            CompressionType = CompressionType.Lz4,
        };
        return new ProducerBuilder<string, byte[]>(config)
            .SetErrorHandler((_, e) => KafkaLog.ClientError(logger, "producer", e.Code, e.Reason))
            .SetLogHandler((_, m) => KafkaLog.ClientLog(logger, m.Name, m.Message))
            .Build();
    }

    public async Task AppendAsync(IReadOnlyList<TenantEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return;
        }

        var current = producer;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pending = events.Count;
        Error? failure = null;

        void OnDelivered(DeliveryReport<string, byte[]> report)
        {
            if (report.Error.IsError)
            {
                Interlocked.CompareExchange(ref failure, report.Error, null);
            }

            if (Interlocked.Decrement(ref pending) == 0)
            {
                done.TrySetResult();
            }
        }

        var produced = 0;
        try
        {
            for (; produced < events.Count; produced++)
            {
                var item = events[produced];
                var message = new Message<string, byte[]> { Key = EventCodec.PartitionKey(item), Value = EventCodec.Encode(item) };
                while (true)
                {
                    try
                    {
                        current.Produce(options.Topic, message, OnDelivered);
                        break;
                    }
                    catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        await Task.Delay(10, cancellationToken);
                    }
                }
            }
        }
        catch (Exception e) when (e is KafkaException or OperationCanceledException)
        {
            // Those never handed to the producer will get no report; count them off so the wait below ends.
            if (Interlocked.Add(ref pending, -(events.Count - produced)) == 0)
            {
                done.TrySetResult();
            }

            await done.Task.WaitAsync(TimeSpan.FromMilliseconds(options.MessageTimeoutMs * 2L), CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            throw new EventLogUnavailableException($"Kafka refused the batch: {e.Message}", e);
        }

        await done.Task.WaitAsync(cancellationToken);
        if (failure is { } error)
        {
            if (error.IsFatal)
            {
                RecreateProducer(current);
            }

            throw new EventLogUnavailableException($"Kafka did not acknowledge the batch: {error.Reason} ({error.Code})");
        }
    }

    private void RecreateProducer(IProducer<string, byte[]> broken)
    {
        lock (gate)
        {
            if (!ReferenceEquals(producer, broken))
            {
                return;
            }

            producer = BuildProducer();
        }

        broken.Dispose();
    }

    public Task<bool> IsReachableAsync(CancellationToken cancellationToken) => Task.Run(() =>
    {
        try
        {
            using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
            var metadata = admin.GetMetadata(options.Topic, TimeSpan.FromSeconds(2));
            return metadata.Brokers.Count > 0 && metadata.Topics.Any(t => t.Topic == options.Topic && !t.Error.IsError);
        }
        catch (KafkaException)
        {
            return false;
        }
    }, cancellationToken);

    public IEventLogConsumer OpenConsumer(string groupId) => new KafkaEventLogConsumer(options, groupId, logger);

    /// <summary>
    /// Per partition, the high watermark less the group's committed offset (the low watermark when it has none); the
    /// oldest pending event's time is the timestamp of the message at the committed offset, read without joining the group.
    /// </summary>
    public Task<ConsumerLag> LagAsync(string groupId, CancellationToken cancellationToken) => Task.Run(() =>
    {
        var timeout = TimeSpan.FromSeconds(5);
        using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
        var topic = admin.GetMetadata(options.Topic, timeout).Topics.SingleOrDefault(t => t.Topic == options.Topic && !t.Error.IsError);
        if (topic is null)
        {
            return new ConsumerLag(0, null);
        }

        var partitions = topic.Partitions.Select(p => new TopicPartition(options.Topic, p.PartitionId)).ToList();
        using var reader = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = groupId,
            EnableAutoCommit = false,
            IsolationLevel = IsolationLevel.ReadCommitted,
        }).Build();
        var committed = reader.Committed(partitions, timeout).ToDictionary(c => c.TopicPartition, c => c.Offset.Value);
        long pending = 0;
        DateTimeOffset? oldest = null;
        foreach (var partition in partitions)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var marks = reader.QueryWatermarkOffsets(partition, timeout);
            var from = Math.Max(committed.GetValueOrDefault(partition, Offset.Unset.Value), marks.Low.Value);
            if (marks.High.Value <= from)
            {
                continue;
            }

            pending += marks.High.Value - from;
            reader.Assign(new TopicPartitionOffset(partition, from));
            if (reader.Consume(timeout) is { Message: { } message } && message.Timestamp.Type != TimestampType.NotAvailable)
            {
                var at = new DateTimeOffset(message.Timestamp.UtcDateTime, TimeSpan.Zero);
                oldest = oldest is null || at < oldest ? at : oldest;
            }

            reader.Unassign();
        }

        return new ConsumerLag(pending, oldest);
    }, cancellationToken);

    public ValueTask DisposeAsync()
    {
        producer.Flush(TimeSpan.FromSeconds(5));
        producer.Dispose();
        return ValueTask.CompletedTask;
    }
}
