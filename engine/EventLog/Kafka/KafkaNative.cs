using System.Reflection;
using System.Runtime.InteropServices;

namespace PricingOptimizer.EventLog.Kafka;

/// <summary>
/// Loads librdkafka for Confluent.Kafka and for the mock cluster. The default build in librdkafka.redist needs
/// libsasl2.so.3, which Debian 12 lacks; the package ships a CentOS 8 build beside it that links what Debian has,
/// so when the default will not load, the resolver hands out that one instead.
/// </summary>
public static class KafkaNative
{
    private static readonly Lock Gate = new();
    private static IntPtr handle;
    private static bool resolverSet;

    /// <summary>Makes sure Confluent.Kafka will find a librdkafka that loads here. Idempotent; call before any Kafka client is built.</summary>
    public static void EnsureResolver()
    {
        lock (Gate)
        {
            if (resolverSet)
            {
                return;
            }

            NativeLibrary.SetDllImportResolver(typeof(Confluent.Kafka.Library).Assembly, Resolve);
            resolverSet = true;
        }
    }

    /// <summary>The loaded librdkafka.</summary>
    public static IntPtr Handle
    {
        get
        {
            lock (Gate)
            {
                if (handle == IntPtr.Zero)
                {
                    handle = Load();
                }

                return handle;
            }
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name.Contains("rdkafka", StringComparison.Ordinal) ? Handle : IntPtr.Zero;

    private static IntPtr Load()
    {
        var candidates = new List<string>();
        foreach (var folder in new[] { Path.Combine(AppContext.BaseDirectory, "runtimes", RidFolder(), "native"), AppContext.BaseDirectory })
        {
            candidates.Add(Path.Combine(folder, "librdkafka.so"));
            candidates.Add(Path.Combine(folder, "centos8-librdkafka.so"));
        }

        var failures = new List<string>();
        foreach (var path in candidates.Where(File.Exists))
        {
            try
            {
                return NativeLibrary.Load(path);
            }
            catch (DllNotFoundException e)
            {
                failures.Add($"{path}: {e.Message}");
            }
        }

        if (NativeLibrary.TryLoad("librdkafka", typeof(KafkaNative).Assembly, null, out var fromSystem))
        {
            return fromSystem;
        }

        throw new DllNotFoundException(
            "librdkafka could not be loaded. Tried: " + (failures.Count == 0 ? "no candidate file found" : string.Join("; ", failures)));
    }

    private static string RidFolder() => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
}
