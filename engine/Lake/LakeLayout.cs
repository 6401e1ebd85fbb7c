using System.Globalization;
using System.Text.RegularExpressions;

namespace PricingOptimizer.Lake;

/// <summary>
/// Where events live in the lake (README "Lake layout and guarantees"):
/// <c>{lake}/events/tenant_id={tenant}/event_date={yyyy-MM-dd}/{source}-{first position}.parquet</c>.
/// </summary>
public sealed partial class LakeLayout(string root)
{
    /// <summary>The lake's root folder.</summary>
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>The events table's folder.</summary>
    public string EventsRoot => Path.Combine(Root, "events");

    /// <summary>Where readers hold their leases (<see cref="ReadLease"/>), outside the events table.</summary>
    public string ReadersFolder => Path.Combine(Root, "_readers");

    /// <summary>Where files that cannot be read are moved, outside the events table, under the same partition folders.</summary>
    public string QuarantineFolder => Path.Combine(Root, "_quarantine");

    /// <summary>The glob DuckDB reads.</summary>
    public string EventsGlob => Path.Combine(EventsRoot, "**", "*.parquet");

    public string PartitionFolder(string tenantId, DateOnly eventDate)
    {
        EnsureTenantId(tenantId);
        return Path.Combine(EventsRoot, "tenant_id=" + tenantId, "event_date=" + eventDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The file for the events of one partition that start at <paramref name="firstPosition"/> of
    /// <paramref name="source"/>: a replay of the same log range lands on the same name.
    /// </summary>
    public string FilePath(string tenantId, DateOnly eventDate, string source, long firstPosition) =>
        Path.Combine(PartitionFolder(tenantId, eventDate),
            string.Create(CultureInfo.InvariantCulture, $"{source}-{firstPosition:D20}.parquet"));

    /// <summary>True when the lake holds at least one events file.</summary>
    /// <summary>
    /// How old a temporary file (<c>.{name}.{guid}.tmp</c>, written before the rename into place) must be to count as left
    /// by a crash: a lander writes one in seconds, and other landers of the group may be writing theirs right now.
    /// </summary>
    public static readonly TimeSpan StaleTemporaryAge = TimeSpan.FromMinutes(15);

    /// <summary>Removes temporary files older than <see cref="StaleTemporaryAge"/> that crashed writers left; returns how many.</summary>
    public int RemoveStaleTemporaryFiles(DateTimeOffset now)
    {
        if (!Directory.Exists(EventsRoot))
        {
            return 0;
        }

        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(EventsRoot, ".*.tmp", SearchOption.AllDirectories))
        {
            try
            {
                if (now - File.GetLastWriteTimeUtc(file) > StaleTemporaryAge)
                {
                    File.Delete(file);
                    removed++;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone already (another lander cleaned it) or not ours: leave it.
            }
        }

        return removed;
    }

    public bool HasEvents() =>
        Directory.Exists(EventsRoot) && Directory.EnumerateFiles(EventsRoot, "*.parquet", SearchOption.AllDirectories).Any();

    /// <summary>Tenant ids become folder names, so they are restricted to a safe alphabet.</summary>
    public static bool IsValidTenantId(string? tenantId) => tenantId is not null && TenantIdPattern().IsMatch(tenantId);

    public static void EnsureTenantId(string tenantId)
    {
        if (!IsValidTenantId(tenantId))
        {
            throw new ArgumentException($"tenant id '{tenantId}' must be 1-64 characters of letters, digits, '-' or '_'", nameof(tenantId));
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex TenantIdPattern();
}
