using System.Globalization;
using PricingOptimizer.Events;

namespace PricingOptimizer.Benchmarks.Bench;

/// <summary>Synthetic events for benchmarks: realistic sizes, several tenants and days.</summary>
public static class BenchData
{
    public static PricingEvent Event(long i, DateTimeOffset now)
    {
        var user = i / 2;
        var isConvert = i % 2 == 1 && user % 7 == 0;
        return new PricingEvent(
            string.Create(CultureInfo.InvariantCulture, $"evt-{i:D10}"),
            isConvert ? EventType.Convert : EventType.Assign,
            "exp-" + (user % 5).ToString(CultureInfo.InvariantCulture),
            (user % 3) switch { 0 => "control", 1 => "charm", _ => "premium" },
            string.Create(CultureInfo.InvariantCulture, $"user-{user:D9}"),
            (user % 3) switch { 0 => 9.99m, 1 => 8.99m, _ => 12.99m },
            null,
            "USD",
            EventValidator.TruncateToMicroseconds(now.AddSeconds(-(i % (3 * 86_400)))),
            i % 10 == 0 ? new Dictionary<string, string> { ["channel"] = "web" } : null);
    }

    public static string Tenant(long i) => "tenant-" + (i % 4).ToString(CultureInfo.InvariantCulture);

    public static string Machine() =>
        $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1 << 30)} GiB, " +
            $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";

    /// <summary>Resets the kernel's peak resident mark of this process (Linux); false where that cannot be done.</summary>
    public static bool TryResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>VmHWM of /proc/self/status, in bytes.</summary>
    public static long PeakResidentSinceReset()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}
