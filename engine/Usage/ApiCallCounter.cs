using System.Collections.Concurrent;
using PricingOptimizer.ControlPlane;

namespace PricingOptimizer.Usage;

/// <summary>
/// Counts API calls per tenant and day in memory and flushes the counts to the control plane now and then:
/// counting stays off the request's critical path, and additive flushes let several API processes share one store.
/// </summary>
public sealed class ApiCallCounter(IControlPlaneStore store, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Tenant, DateOnly Day), long> pending = new();

    public void Count(string tenantId) =>
        pending.AddOrUpdate((tenantId, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime)), 1, (_, n) => n + 1);

    /// <summary>Calls counted here but not yet flushed, for one tenant and day range.</summary>
    public long Pending(string tenantId, DateOnly from, DateOnly to) =>
        pending.Where(kv => kv.Key.Tenant == tenantId && kv.Key.Day >= from && kv.Key.Day <= to).Sum(kv => kv.Value);

    public IEnumerable<(DateOnly Day, long Calls)> PendingByDay(string tenantId) =>
        pending.Where(kv => kv.Key.Tenant == tenantId).Select(kv => (kv.Key.Day, kv.Value));

    /// <summary>Writes what was counted to the store; counts that fail to write stay pending for the next flush.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var taken = new List<(string, DateOnly, long)>();
        foreach (var key in pending.Keys)
        {
            if (pending.TryRemove(key, out var calls) && calls > 0)
            {
                taken.Add((key.Tenant, key.Day, calls));
            }
        }

        if (taken.Count == 0)
        {
            return;
        }

        try
        {
            await store.AddApiCallsAsync(taken, cancellationToken);
        }
        catch
        {
            foreach (var (tenant, day, calls) in taken)
            {
                pending.AddOrUpdate((tenant, day), calls, (_, n) => n + calls);
            }

            throw;
        }
    }
}

/// <summary>Flushes the <see cref="ApiCallCounter"/> every few seconds and once more at shutdown.</summary>
public sealed class ApiCallFlusher(ApiCallCounter counter) : Microsoft.Extensions.Hosting.BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await counter.FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            await counter.FlushAsync(CancellationToken.None);
        }
    }
}
