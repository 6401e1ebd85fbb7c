namespace PricingOptimizer.ControlPlane;

/// <summary>
/// Whether the control-plane store failed a moment ago. After an outage (<see cref="ControlPlaneFaults.IsOutage"/>)
/// the paths that can go on without the store (ingest's plan and limit, experiment checks from last-known copies)
/// skip it for <see cref="HoldDown"/> instead of waiting for its timeout on every request; the next call after that
/// tries the store again. Readiness reports it.
/// </summary>
public sealed class ControlPlaneStatus(TimeProvider time)
{
    /// <summary>How long the degraded paths leave the store alone after it failed.</summary>
    public static readonly TimeSpan HoldDown = TimeSpan.FromSeconds(2);

    private long downUntilTicks;
    private long outages;

    /// <summary>True within <see cref="HoldDown"/> of the last outage.</summary>
    public bool RecentlyDown => time.GetUtcNow().UtcTicks < Interlocked.Read(ref downUntilTicks);

    /// <summary>How many store calls failed as outages since the process started.</summary>
    public long Outages => Interlocked.Read(ref outages);

    /// <summary>True when <paramref name="exception"/> is an outage (and marks it); false for anything else.</summary>
    public bool Failed(Exception exception)
    {
        if (!ControlPlaneFaults.IsOutage(exception))
        {
            return false;
        }

        Interlocked.Increment(ref outages);
        Interlocked.Exchange(ref downUntilTicks, (time.GetUtcNow() + HoldDown).UtcTicks);
        return true;
    }
}
