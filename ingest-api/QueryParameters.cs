using System.Globalization;
using PricingOptimizer.Errors;

namespace PricingOptimizer.IngestApi;

/// <summary>Optional query parameters read one way everywhere: absent is null, malformed is 400 naming the parameter.</summary>
public static class QueryParameters
{
    public static double? Double(IQueryCollection query, string name)
    {
        var text = query[name].ToString();
        if (text.Length == 0)
        {
            return null;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw new InvalidInputException($"{name} '{text}' is not a number", name);
    }

    public static bool? Bool(IQueryCollection query, string name)
    {
        var text = query[name].ToString();
        if (text.Length == 0)
        {
            return null;
        }

        return bool.TryParse(text, out var value) ? value : throw new InvalidInputException($"{name} '{text}' is not true or false", name);
    }

    /// <summary>A whole number of days (the range is checked where it is used).</summary>
    public static int? Days(IQueryCollection query, string name)
    {
        var text = query[name].ToString();
        if (text.Length == 0)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidInputException($"{name} '{text}' is not a whole number of days", name);
    }
}
