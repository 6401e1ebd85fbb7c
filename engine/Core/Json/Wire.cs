using System.Text.Json;
using System.Text.Json.Serialization;

namespace PricingOptimizer.Json;

/// <summary>
/// How PricingOptimizer writes JSON everywhere (the API, <c>po</c>'s JSON output, the SDK): snake_case names, enums
/// as snake_case strings (<c>paid_ai</c>, <c>byok</c>, <c>conversions</c>), never as numbers. One definition, so
/// the API, the CLI and the SDK cannot drift apart.
/// </summary>
#if PO_CLIENT
internal
#else
public
#endif
    static class Wire
{
    public static readonly JsonNamingPolicy Naming = JsonNamingPolicy.SnakeCaseLower;

    /// <summary>The options of every JSON answer and request body.</summary>
    public static JsonSerializerOptions Options { get; } = Frozen(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>The same, indented (files and terminal output).</summary>
    public static JsonSerializerOptions Indented { get; } = Frozen(new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });

    /// <summary>Sets <paramref name="options"/> to the wire's naming and enum rules (for ASP.NET Core's own options).</summary>
    public static JsonSerializerOptions Apply(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = Naming;
        options.Converters.Add(new JsonStringEnumConverter(Naming, allowIntegerValues: false));
        return options;
    }

    /// <summary>An enum value as the wire writes it: <c>BillingProvider.PaidAi</c> is <c>paid_ai</c>.</summary>
    public static string Name<T>(T value)
        where T : struct, Enum => EnumNames<T>.ByValue.TryGetValue(value, out var name) ? name : Naming.ConvertName(value.ToString());

    /// <summary>The enum value the wire name <paramref name="text"/> stands for (exact, case-sensitive).</summary>
    public static bool TryParse<T>(string? text, out T value)
        where T : struct, Enum
    {
        if (text is not null && EnumNames<T>.ByName.TryGetValue(text, out value))
        {
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>Every wire name of <typeparamref name="T"/>, comma-separated (for error messages).</summary>
    public static string Names<T>()
        where T : struct, Enum => string.Join(", ", EnumNames<T>.ByValue.Values);

    private static JsonSerializerOptions Frozen(JsonSerializerOptions options)
    {
        Apply(options).MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private static class EnumNames<T>
        where T : struct, Enum
    {
        public static readonly Dictionary<T, string> ByValue = Enum.GetValues<T>().ToDictionary(v => v, v => Naming.ConvertName(v.ToString()));

        public static readonly Dictionary<string, T> ByName = ByValue.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);
    }
}
