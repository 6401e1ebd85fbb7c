using System.CommandLine;
using Microsoft.Extensions.Configuration;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary>Options every command shares, and the configuration they feed.</summary>
public static class CommonOptions
{
    public static Option<string?> Data() => new("--data") { Description = "Data directory (event log, control plane, lake). Default: Storage:DataDirectory, else ./data" };

    public static Option<string?> Lake() => new("--lake") { Description = "Lake directory. Default: {data}/lake" };

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
