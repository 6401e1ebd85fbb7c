namespace PricingOptimizer.ControlPlane;

/// <summary>API calls of one tenant on one day, and the most in any one minute of it.</summary>
public sealed record ApiCallCount(string TenantId, DateOnly Day, long Calls, long PeakPerMinute);

/// <summary>One day's API calls of a tenant.</summary>
public sealed record ApiCallDay(DateOnly Day, long Calls, long PeakPerMinute);
