using PricingOptimizer.EventLog.Kafka;
using PricingOptimizer.Testing;

namespace PricingOptimizer.Tests.Fixtures;

/// <summary>librdkafka's mock cluster in the test process, shared by a test class; each test takes its own topic.</summary>
public sealed class KafkaMockFixture : IDisposable
{
    private int topics;

    public KafkaMockFixture()
    {
        KafkaNative.EnsureResolver();
        Cluster = new KafkaMockCluster(brokers: 1);
    }

    public KafkaMockCluster Cluster { get; }

    public string BootstrapServers => Cluster.BootstrapServers;

    /// <summary>A fresh topic with <paramref name="partitions"/> partitions.</summary>
    public string NewTopic(int partitions = 3)
    {
        var name = $"test.events.{Interlocked.Increment(ref topics)}.{Guid.NewGuid():N}";
        Cluster.CreateTopic(name, partitions);
        return name;
    }

    public void Dispose() => Cluster.Dispose();
}
