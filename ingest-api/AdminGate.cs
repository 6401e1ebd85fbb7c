using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.IngestApi;

/// <summary>
/// The door of <c>/v1/admin</c>, before routing reads any body: 404 when admin endpoints are off, 401 for a missing
/// or wrong <c>X-Admin-Key</c>, and after <see cref="FailuresPerMinute"/> failed attempts from one client address in a
/// minute, 429 for that address until the minute ends (Retry-After), without comparing the key at all.
/// </summary>
public sealed class AdminGate(IOptions<AuthOptions> auth, TimeProvider time)
{
    public const int FailuresPerMinute = 10;
    private readonly ConcurrentDictionary<string, (DateTimeOffset WindowStart, int Failures)> failures = new();

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.Request.Path.StartsWithSegments("/v1/admin"))
        {
            await next(context);
            return;
        }

        var configured = auth.Value.AdminKey;
        if (string.IsNullOrEmpty(configured))
        {
            await Answer(context, 404, "Not found", "admin endpoints are off: set Auth:AdminKey to turn them on", "path");
            return;
        }

        var now = time.GetUtcNow();
        var windowStart = TenantRateLimits.WindowStart(now);
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (failures.TryGetValue(address, out var seen) && seen.WindowStart == windowStart && seen.Failures >= FailuresPerMinute)
        {
            context.Response.Headers.RetryAfter = Problems.Seconds(windowStart + TenantRateLimits.Window - now);
            await Answer(context, 429, "Too many requests",
                "too many failed admin attempts from this address; retry after the number of seconds in Retry-After", "X-Admin-Key");
            return;
        }

        var given = context.Request.Headers["X-Admin-Key"].ToString();
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(configured))))
        {
            failures.AddOrUpdate(address, _ => (windowStart, 1), (_, f) => f.WindowStart == windowStart ? (windowStart, f.Failures + 1) : (windowStart, 1));
            Forget(windowStart);
            await Answer(context, 401, "Unauthorized", "send the admin credential in X-Admin-Key", "X-Admin-Key");
            return;
        }

        await next(context);
    }

    /// <summary>Drops the failure counts of windows that have ended, so the table holds one minute's addresses at most.</summary>
    private void Forget(DateTimeOffset windowStart)
    {
        if (failures.Count < 1024)
        {
            return;
        }

        foreach (var (address, seen) in failures)
        {
            if (seen.WindowStart < windowStart)
            {
                failures.TryRemove(address, out _);
            }
        }
    }

    private static Task Answer(HttpContext context, int status, string title, string detail, string field) =>
        Results.Problem(statusCode: status, title: title, detail: detail, extensions: new Dictionary<string, object?> { ["field"] = field })
            .ExecuteAsync(context);
}
