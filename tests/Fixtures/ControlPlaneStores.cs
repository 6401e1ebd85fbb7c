namespace PricingOptimizer.Tests.Fixtures;

/// <summary>Which control-plane store an API test runs on: the control-plane suites run once on each.</summary>
public enum ControlPlaneKind
{
    Sqlite,
    Postgres,
}

public static class ControlPlaneStores
{
    /// <summary>The <c>Storage:ControlPlane</c> value for <paramref name="kind"/>: a fresh PostgreSQL database, or null
    /// (the SQLite file in the data directory).</summary>
    public static string? ConnectionString(ControlPlaneKind kind) => kind == ControlPlaneKind.Postgres ? PostgresServer.Shared.CreateDatabase() : null;

    /// <summary><paramref name="settings"/> with the control plane of <paramref name="kind"/>.</summary>
    public static Dictionary<string, string?> With(ControlPlaneKind kind, Dictionary<string, string?> settings)
    {
        if (ConnectionString(kind) is { } connectionString)
        {
            settings["Storage:ControlPlane"] = connectionString;
        }

        return settings;
    }
}
