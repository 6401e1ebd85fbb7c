using System.Collections.Concurrent;
using PricingOptimizer.ControlPlane;

namespace PricingOptimizer.Usage;

/// <summary>
/// Counts API calls per tenant and day, and the busiest minute of the day, in memory; flushes them to the control
/// plane now and then. Counting stays off the request's critical path (no lock in the common case), and additive
/// flushes let several API processes share one store.
/// </summary>
public sealed class ApiCallCounter(IUsageStore store, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Tenant, DateOnly Day), DayCounter> days = new();

    private sealed class DayCounter
    {
        public long Calls;
        public long Minute;
        public long MinuteCalls;
        public long PeakPerMinute;
    }

    public void Count(string tenantId)
    {
        var now = time.GetUtcNow();
        var counter = days.GetOrAdd((tenantId, DateOnly.FromDateTime(now.UtcDateTime)), static _ => new DayCounter());
        Interlocked.Increment(ref counter.Calls);
        var minute = now.UtcTicks / TimeSpan.TicksPerMinute;
        if (Volatile.Read(ref counter.Minute) != minute)
        {
            lock (counter)
            {
                if (counter.Minute != minute)
                {
                    counter.MinuteCalls = 0;
                    Volatile.Write(ref counter.Minute, minute);
                }
            }
        }

        var inMinute = Interlocked.Increment(ref counter.MinuteCalls);
        long peak;
        while (inMinute > (peak = Volatile.Read(ref counter.PeakPerMinute)) &&
               Interlocked.CompareExchange(ref counter.PeakPerMinute, inMinute, peak) != peak)
        {
        }
    }

    /// <summary>What this process counted and has not flushed yet, per day, for one tenant.</summary>
    public IEnumerable<ApiCallDay> PendingByDay(string tenantId) =>
        days.Where(kv => kv.Key.Tenant == tenantId)
            .Select(kv => new ApiCallDay(kv.Key.Day, Interlocked.Read(ref kv.Value.Calls), Interlocked.Read(ref kv.Value.PeakPerMinute)));

    /// <summary>Writes the counts to the store; counts that fail to write are kept for the next flush.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var taken = new List<(string Tenant, DateOnly Day, DayCounter Counter, long Calls)>();
        foreach (var (key, counter) in days)
        {
            var calls = Interlocked.Exchange(ref counter.Calls, 0);
            if (calls > 0 || key.Day < today)
            {
                taken.Add((key.Tenant, key.Day, counter, calls));
            }
        }

        if (taken.Count == 0)
        {
            return;
        }

        try
        {
            await store.AddApiCallsAsync(taken.Select(t => new ApiCallCount(t.Tenant, t.Day, t.Calls, Interlocked.Read(ref t.Counter.PeakPerMinute))).ToList(),
                cancellationToken);
            foreach (var t in taken.Where(t => t.Day < today))
            {
                days.TryRemove((t.Tenant, t.Day), out _);
            }
        }
        catch
        {
            foreach (var t in taken)
            {
                Interlocked.Add(ref t.Counter.Calls, t.Calls);
            }

            throw;
        }
    }
}

/// <summary>Flushes the <see cref="ApiCallCounter"/> every few seconds and once more at shutdown.</summary>
public sealed partial class ApiCallFlusher(ApiCallCounter counter, TimeProvider time, Microsoft.Extensions.Logging.ILogger<ApiCallFlusher> logger)
    : Microsoft.Extensions.Hosting.BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            await FlushAsync(CancellationToken.None);
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await counter.FlushAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The counts stay pending in memory; the next tick tries again. Serving requests matters more.
            FlushFailed(logger, e);
        }
    }

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning,
        Message = "Flushing API-call counts failed; they stay pending")]
    private static partial void FlushFailed(Microsoft.Extensions.Logging.ILogger logger, Exception exception);
}
