using System.Collections.Concurrent;

namespace PricingOptimizer.Lake;

/// <summary>The DuckDB SQL embedded in the engine (<c>*.sql</c> files), by file name without extension.</summary>
internal static class SqlResources
{
    private static readonly ConcurrentDictionary<string, string> Cache = new();

    public static string Get(string name) => Cache.GetOrAdd(name, static n =>
    {
        var assembly = typeof(SqlResources).Assembly;
        var resource = assembly.GetManifestResourceNames().SingleOrDefault(r => r.EndsWith("." + n + ".sql", StringComparison.Ordinal))
                       ?? throw new InvalidOperationException($"SQL resource '{n}.sql' is not embedded in the engine");
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });
}
