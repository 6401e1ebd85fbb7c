using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace PricingOptimizer.Lake;

/// <summary>
/// The DuckDB SQL embedded in the engine (<c>*.sql</c> files), by file name without extension; a file of several
/// statements names each with a <c>-- name: …</c> line, and a statement's <c>{placeholder}</c>s are filled in by
/// <see cref="Statement"/>.
/// </summary>
internal static partial class SqlResources
{
    private static readonly ConcurrentDictionary<string, string> Cache = new();
    private static readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, string>> Sections = new();

    public static string Get(string name) => Cache.GetOrAdd(name, static n =>
    {
        var assembly = typeof(SqlResources).Assembly;
        var resource = assembly.GetManifestResourceNames().SingleOrDefault(r => r.EndsWith("." + n + ".sql", StringComparison.Ordinal))
                       ?? throw new InvalidOperationException($"SQL resource '{n}.sql' is not embedded in the engine");
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>
    /// Statement <paramref name="name"/> of file <paramref name="file"/>, its placeholders filled from
    /// <paramref name="values"/>: the engine's own table names, fragments and formatted numbers, never request input.
    /// </summary>
    /// <exception cref="InvalidOperationException">No such statement, or a placeholder without a value (a bug, said at once).</exception>
    public static string Statement(string file, string name, params (string Placeholder, string Value)[] values)
    {
        var sections = Sections.GetOrAdd(file, static f => Split(Get(f)));
        if (!sections.TryGetValue(name, out var sql))
        {
            throw new InvalidOperationException($"no statement '{name}' in {file}.sql");
        }

        var fill = values.ToDictionary(v => v.Placeholder, v => v.Value, StringComparer.Ordinal);
        return Placeholder().Replace(sql, m => fill.TryGetValue(m.Groups[1].Value, out var value)
            ? value
            : throw new InvalidOperationException($"statement '{name}' of {file}.sql needs a value for {{{m.Groups[1].Value}}}"));
    }

    private static Dictionary<string, string> Split(string text)
    {
        var sections = new Dictionary<string, string>(StringComparer.Ordinal);
        string? current = null;
        var body = new List<string>();
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("-- name: ", StringComparison.Ordinal))
            {
                Close();
                current = line["-- name: ".Length..].Trim();
                continue;
            }

            // Comment lines explain the file; a statement (which may be nested in another) is kept without them.
            if (!line.TrimStart().StartsWith("--", StringComparison.Ordinal))
            {
                body.Add(line.TrimEnd('\r'));
            }
        }

        Close();
        return sections;

        void Close()
        {
            if (current is not null)
            {
                sections[current] = string.Join('\n', body).Trim();
            }

            body.Clear();
        }
    }

    [GeneratedRegex(@"\{([a-z_]+)\}")]
    private static partial Regex Placeholder();
}
