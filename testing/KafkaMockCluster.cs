using System.Runtime.InteropServices;
using System.Text;

using PricingOptimizer.EventLog.Kafka;

namespace PricingOptimizer.Testing;

/// <summary>
/// librdkafka's in-process mock Kafka cluster: real brokers speaking the Kafka protocol on loopback, for tests and
/// benchmarks without a server to install. Not for production.
/// </summary>
public sealed unsafe class KafkaMockCluster : IDisposable
{
    private readonly IntPtr rk;
    private readonly IntPtr cluster;
    private bool disposed;

    /// <summary>Starts <paramref name="brokers"/> mock brokers.</summary>
    public KafkaMockCluster(int brokers = 1)
    {
        var lib = KafkaNative.Handle;
        var confNew = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_conf_new");
        var kafkaNew = (delegate* unmanaged<int, IntPtr, byte*, nuint, IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_new");
        var clusterNew = (delegate* unmanaged<IntPtr, int, IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_mock_cluster_new");
        var bootstraps = (delegate* unmanaged<IntPtr, IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_mock_cluster_bootstraps");
        var rebalanceDelay = (delegate* unmanaged<IntPtr, int, void>)NativeLibrary.GetExport(lib, "rd_kafka_mock_group_initial_rebalance_delay_ms");

        var confSet = (delegate* unmanaged<IntPtr, byte*, byte*, byte*, nuint, int>)NativeLibrary.GetExport(lib, "rd_kafka_conf_set");
        var errors = stackalloc byte[512];
        var conf = confNew();
        // The handle only hosts the mock; it has no brokers of its own to connect to, which librdkafka would log as a warning.
        fixed (byte* name = "log_level\0"u8, value = "3\0"u8)
        {
            confSet(conf, name, value, errors, 512);
        }

        rk = kafkaNew(0 /* RD_KAFKA_PRODUCER */, conf, errors, 512);
        if (rk == IntPtr.Zero)
        {
            throw new InvalidOperationException("rd_kafka_new failed: " + Marshal.PtrToStringUTF8((IntPtr)errors));
        }

        cluster = clusterNew(rk, brokers);
        if (cluster == IntPtr.Zero)
        {
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }

        rebalanceDelay(cluster, 0);
        BootstrapServers = Marshal.PtrToStringUTF8(bootstraps(cluster))!;
        BrokerCount = brokers;
    }

    /// <summary>The brokers' addresses, for <c>Kafka:BootstrapServers</c>.</summary>
    public string BootstrapServers { get; }

    public int BrokerCount { get; }

    /// <summary>Creates a topic (the admin API does not work against the mock).</summary>
    public void CreateTopic(string topic, int partitions, int replicationFactor = 1)
    {
        var create = (delegate* unmanaged<IntPtr, byte*, int, int, int>)NativeLibrary.GetExport(KafkaNative.Handle, "rd_kafka_mock_topic_create");
        var name = Encoding.UTF8.GetBytes(topic + "\0");
        fixed (byte* p = name)
        {
            var err = create(cluster, p, partitions, replicationFactor);
            if (err != 0)
            {
                throw new InvalidOperationException($"rd_kafka_mock_topic_create({topic}) failed with error {err}");
            }
        }
    }

    /// <summary>Takes broker <paramref name="brokerId"/> (1-based) down: connections close and new ones are refused.</summary>
    public void SetBrokerDown(int brokerId) => BrokerCall("rd_kafka_mock_broker_set_down", brokerId);

    /// <summary>Brings broker <paramref name="brokerId"/> back.</summary>
    public void SetBrokerUp(int brokerId) => BrokerCall("rd_kafka_mock_broker_set_up", brokerId);

    /// <summary>Takes every broker down.</summary>
    public void SetAllDown()
    {
        for (var id = 1; id <= BrokerCount; id++)
        {
            SetBrokerDown(id);
        }
    }

    /// <summary>Brings every broker back.</summary>
    public void SetAllUp()
    {
        for (var id = 1; id <= BrokerCount; id++)
        {
            SetBrokerUp(id);
        }
    }

    private void BrokerCall(string function, int brokerId)
    {
        var call = (delegate* unmanaged<IntPtr, int, int>)NativeLibrary.GetExport(KafkaNative.Handle, function);
        var err = call(cluster, brokerId);
        if (err != 0)
        {
            throw new InvalidOperationException($"{function}({brokerId}) failed with error {err}");
        }
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        var destroyCluster = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(KafkaNative.Handle, "rd_kafka_mock_cluster_destroy");
        var destroy = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(KafkaNative.Handle, "rd_kafka_destroy");
        destroyCluster(cluster);
        destroy(rk);
    }
}
