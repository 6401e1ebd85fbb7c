namespace PricingOptimizer.ControlPlane;

/// <summary>What changed in the control plane: an experiment, a tenant (its plan), or anything (after a lost connection).</summary>
public sealed record ControlPlaneChange(ControlPlaneChangeKind Kind, string? TenantId = null, string? ExperimentId = null);

public enum ControlPlaneChangeKind
{
    Experiment,
    Tenant,

    /// <summary>Changes may have been missed (the listener reconnected): drop every cached copy.</summary>
    Everything,
}

/// <summary>
/// Changes other processes made, as announced by the store (PostgreSQL LISTEN/NOTIFY); caches subscribe and drop
/// their copies. With SQLite nothing is announced and caches fall back to their time bounds.
/// </summary>
public sealed class ControlPlaneChanges
{
    public event Action<ControlPlaneChange>? Changed;

    public void Publish(ControlPlaneChange change) => Changed?.Invoke(change);

    /// <summary>Parses a NOTIFY payload (<c>experiment {tenant} {experiment}</c>, <c>tenant {tenant}</c>); null when it is neither.</summary>
    public static ControlPlaneChange? Parse(string payload)
    {
        var parts = payload.Split(' ', 3);
        return parts switch
        {
            ["experiment", var tenant, var experiment] => new ControlPlaneChange(ControlPlaneChangeKind.Experiment, tenant, experiment),
            ["tenant", var tenant] => new ControlPlaneChange(ControlPlaneChangeKind.Tenant, tenant),
            _ => null,
        };
    }
}
