namespace PricingOptimizer.Tenancy;

/// <summary>What went wrong, so the API can answer with the right status.</summary>
public enum TenancyError
{
    /// <summary>A field broke a rule (400).</summary>
    Invalid,

    /// <summary>No such thing for this caller (404).</summary>
    NotFound,

    /// <summary>The credential is not (or no longer) good (401).</summary>
    Unauthorized,

    /// <summary>Not possible in the current state (409).</summary>
    Conflict,
}

/// <summary>A request the caller can fix; <see cref="Field"/> names what to fix when there is one.</summary>
public sealed class TenancyException(TenancyError error, string message, string? field = null, IReadOnlyList<string>? allowed = null)
    : Exception(message)
{
    /// <summary>For a conflict: what is allowed instead.</summary>
    public IReadOnlyList<string>? Allowed { get; } = allowed;

    public TenancyError Error { get; } = error;

    public string? Field { get; } = field;
}
