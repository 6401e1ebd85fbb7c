using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary>Options every command shares, and the configuration they feed.</summary>
public static class CommonOptions
{
    public static Option<string?> Data()
        => new("--data") { Description = "Data directory (event log, control plane, lake). Default: Storage:DataDirectory, else ./data" };

    public static Option<string?> Lake() => new("--lake") { Description = "Lake directory. Default: {data}/lake" };

    /// <summary>--attribution-days and --mature-only: the attribution window of a readout or a recommendation.</summary>
    public static (Option<int?> Days, Option<bool> MatureOnly) Attribution() =>
        (new("--attribution-days") { Description = "Count only converts within this many days of a user's first assign (default: every convert at " +
            "or after it)" },
         new("--mature-only") { Description = "With --attribution-days: count only users whose window has closed by the experiment's last event" });

    /// <summary>The engine's services on <paramref name="configuration"/>, for commands that run without the API.</summary>
    public static Microsoft.Extensions.DependencyInjection.ServiceProvider Services(IConfiguration configuration)
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        services.AddSingleton(configuration);
        services.AddLogging();
        PricingOptimizer.Hosting.EngineServiceCollectionExtensions.AddPricingOptimizerEngine(services);
        return Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(services);
    }

    /// <summary>--tenant, checked.</summary>
    public static Option<string> Tenant() => new("--tenant") { Description = "Tenant id", Required = true };

    public static string CheckTenant(string tenantId) => PricingOptimizer.Lake.LakeLayout.IsValidTenantId(tenantId)
        ? tenantId
        : throw new CliException($"--tenant '{tenantId}' must be 1-64 characters of letters, digits, '-' or '_'");

    /// <summary>appsettings.json in the working folder, then PO_-less environment variables (<c>Storage__DataDirectory</c>), then the flags.</summary>
    public static IConfigurationRoot Configuration(string? data, string? lake, IDictionary<string, string?>? overrides = null)
    {
        var flags = new Dictionary<string, string?>();
        if (data is not null)
        {
            flags["Storage:DataDirectory"] = data;
        }

        if (lake is not null)
        {
            flags["Storage:LakeDirectory"] = lake;
        }

        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            flags[key] = value;
        }

        return new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(flags)
            .Build();
    }
}
