namespace PricingOptimizer.ControlPlane;

/// <summary>Which store a <c>Storage:ControlPlane</c> string names, and the PostgreSQL URL form
/// (<c>postgres://user:pass@host:port/db</c>) as Npgsql's.</summary>
public static class ConnectionStrings
{
    /// <summary>A PostgreSQL URL, or a key=value string with <c>Host=</c>.</summary>
    public static bool IsPostgres(string connectionString) =>
        connectionString.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || connectionString.StartsWith("postgresql://",
            StringComparison.OrdinalIgnoreCase)
        || connectionString.Split(';').Any(part => part.Trim().StartsWith("Host=", StringComparison.OrdinalIgnoreCase));

    /// <summary>The Npgsql form of <paramref name="connectionString"/>.</summary>
    /// <exception cref="ArgumentException">A URL that does not parse.</exception>
    public static string ToNpgsql(string connectionString)
    {
        if (!connectionString.Contains("://", StringComparison.Ordinal))
        {
            return connectionString;
        }

        if (!Uri.TryCreate(connectionString, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException("Storage:ControlPlane is not a PostgreSQL URL (postgres://user:password@host:port/database)");
        }

        var builder = new Npgsql.NpgsqlConnectionStringBuilder { Host = uri.Host, Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port };
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
            {
                builder.Password = Uri.UnescapeDataString(parts[1]);
            }
        }

        return builder.ConnectionString;
    }
}

/// <summary>How both stores read a billing adapter's provider and mode back from their text columns (written with their wire names).</summary>
internal static class BillingColumnsText
{
    public static Billing.BillingProvider Provider(string text) =>
        Json.Wire.TryParse<Billing.BillingProvider>(text,
            out var provider) ? provider : throw new InvalidDataException($"unknown billing provider '{text}' in the store");

    public static Billing.BillingMode Mode(string text) =>
        Json.Wire.TryParse<Billing.BillingMode>(text, out var mode) ? mode : throw new InvalidDataException($"unknown billing mode '{text}' in the store");
}

/// <summary>How both stores write an experiment's status and variants into their text columns, and read them back.</summary>
internal static class ExperimentColumnsText
{
    public static string Status(Experiments.ExperimentStatus status) => Json.Wire.Name(status);

    public static Experiments.ExperimentStatus Status(string text) =>
        Json.Wire.TryParse<Experiments.ExperimentStatus>(text,
            out var status) ? status : throw new InvalidDataException($"unknown status '{text}' in the store");

    public static string Variants(IReadOnlyList<Experiments.Variant> variants) => System.Text.Json.JsonSerializer.Serialize(variants);

    public static List<Experiments.Variant> Variants(string json) => System.Text.Json.JsonSerializer.Deserialize<List<Experiments.Variant>>(json)!;

    /// <summary>The allocation as JSON (null for the default fixed one, so rows written before allocations read the same).</summary>
    public static string? Allocation(Experiments.Allocation allocation) =>
        allocation == Experiments.Allocation.FixedFor(allocation.Goal, allocation.UnitCost)
        ? null
        : System.Text.Json.JsonSerializer.Serialize(Experiments.AllocationView.From(allocation), Json.Wire.Options);

    public static Experiments.Allocation Allocation(string? json, Pricing.Goal goal, decimal? unitCost) => json is null
        ? Experiments.Allocation.FixedFor(goal, unitCost)
        : (System.Text.Json.JsonSerializer.Deserialize<Experiments.AllocationView>(json, Json.Wire.Options)
           ?? throw new InvalidDataException("an empty allocation in the store")).ToAllocation();

    public static Pricing.Goal Goal(string text) => Json.Wire.TryParse<PricingOptimizer.Pricing.Goal>(text,
        out var goal) ? goal : throw new InvalidDataException($"unknown goal '{text}' in the store");

    /// <summary>Money as invariant text, so no database rounds it through a float.</summary>
    public static string Money(decimal amount) => amount.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static decimal Money(string text) => decimal.Parse(text, System.Globalization.NumberStyles.Number,
        System.Globalization.CultureInfo.InvariantCulture);
}
