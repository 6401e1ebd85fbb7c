using System.Globalization;
using System.Text.Json;

namespace PricingOptimizer.Events;

/// <summary>Reads events of contract v1 from JSON (snake_case names) without trusting their shape.</summary>
public static class EventJson
{
    /// <summary>
    /// Turns one element of the <c>events</c> array into a <see cref="RawEvent"/>. Wrong JSON types become
    /// <see cref="RawEvent.TypeErrors"/> for that field instead of failing the whole request.
    /// </summary>
    public static RawEvent ReadRaw(JsonElement element)
    {
        var raw = new RawEvent();
        if (element.ValueKind != JsonValueKind.Object)
        {
            raw.TypeErrors.Add(new("event", "must be a JSON object"));
            return raw;
        }

        foreach (var property in element.EnumerateObject())
        {
            if (!TryName(property, out var name))
            {
                raw.TypeErrors.Add(new("event", "has a field name that is not valid Unicode text"));
                continue;
            }

            switch (name)
            {
                case "event_id": raw.EventId = Text(property, raw); break;
                case "type": raw.Type = Text(property, raw); break;
                case "experiment_id": raw.ExperimentId = Text(property, raw); break;
                case "variant_id": raw.VariantId = Text(property, raw); break;
                case "user_id": raw.UserId = Text(property, raw); break;
                case "price": raw.Price = Number(property, raw); break;
                case "revenue": raw.Revenue = Number(property, raw); break;
                case "currency": raw.Currency = Text(property, raw); break;
                case "occurred_at": raw.OccurredAt = Text(property, raw); break;
                case "properties": raw.Properties = Map(property, raw); break;
                default: break; // Unknown fields are ignored so that senders can be newer than us.
            }
        }

        return raw;
    }

    private static bool TryName(JsonProperty property, out string name)
    {
        try
        {
            name = property.Name;
            return true;
        }
        catch (InvalidOperationException)
        {
            name = "";
            return false;
        }
    }

    /// <summary>
    /// The string, or null with a type error when it is not valid Unicode: a lone surrogate escape (<c>"\ud83d"</c>, what
    /// JavaScript emits for a cut emoji) or invalid UTF-8 bytes fail only this field of this event.
    /// </summary>
    private static string? Decode(JsonElement value, string field, RawEvent raw)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            raw.TypeErrors.Add(new(field, "must be valid Unicode text (no lone surrogate escape, no invalid UTF-8)"));
            return null;
        }
    }

    private static string? Text(JsonProperty property, RawEvent raw)
    {
        switch (property.Value.ValueKind)
        {
            case JsonValueKind.String: return Decode(property.Value, property.Name, raw);
            case JsonValueKind.Null: return null;
            default:
                raw.TypeErrors.Add(new(property.Name, "must be a string"));
                return null;
        }
    }

    private static string? Number(JsonProperty property, RawEvent raw)
    {
        switch (property.Value.ValueKind)
        {
            // The raw text keeps every digit: money never passes through double.
            case JsonValueKind.Number: return property.Value.GetRawText();
            case JsonValueKind.String: return Decode(property.Value, property.Name, raw);
            case JsonValueKind.Null: return null;
            default:
                raw.TypeErrors.Add(new(property.Name, "must be a decimal number"));
                return null;
        }
    }

    private static Dictionary<string, string>? Map(JsonProperty property, RawEvent raw) => ReadProperties(property.Value, raw);

    /// <summary>An event's <c>properties</c>: a JSON object of strings (numbers and booleans kept as their text); other
    /// shapes are type errors on <paramref name="raw"/>.</summary>
    public static Dictionary<string, string>? ReadProperties(JsonElement value, RawEvent raw)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            raw.TypeErrors.Add(new("properties", "must be an object of string values"));
            return null;
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in value.EnumerateObject())
        {
            if (!TryName(entry, out var key))
            {
                raw.TypeErrors.Add(new("properties", "has a key that is not valid Unicode text"));
                return null;
            }

            switch (entry.Value.ValueKind)
            {
                case JsonValueKind.String:
                    if (Decode(entry.Value, $"properties.{key}", raw) is not { } text)
                    {
                        return null;
                    }

                    map[key] = text;
                    break;
                case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                    map[key] = entry.Value.GetRawText(); break;
                default:
                    raw.TypeErrors.Add(new($"properties.{key}", "must be a string"));
                    return null;
            }
        }

        return map;
    }

    /// <summary>Writes <paramref name="e"/> in the wire format, as a client would send it.</summary>
    public static void Write(Utf8JsonWriter writer, PricingEvent e)
    {
        writer.WriteStartObject();
        WriteFields(writer, e);
        writer.WriteString("occurred_at", e.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
        WriteProperties(writer, e);
        writer.WriteEndObject();
    }

    /// <summary>The identity, money and currency fields, shared by the wire format and the log's record format.</summary>
    internal static void WriteFields(Utf8JsonWriter writer, PricingEvent e)
    {
        writer.WriteString("event_id", e.EventId);
        writer.WriteString("type", e.Type.ToWire());
        writer.WriteString("experiment_id", e.ExperimentId);
        writer.WriteString("variant_id", e.VariantId);
        writer.WriteString("user_id", e.UserId);
        writer.WriteNumber("price", e.Price);
        if (e.Revenue is { } revenue)
        {
            writer.WriteNumber("revenue", revenue);
        }

        writer.WriteString("currency", e.Currency);
    }

    internal static void WriteProperties(Utf8JsonWriter writer, PricingEvent e)
    {
        if (e.Properties is { Count: > 0 } properties)
        {
            writer.WriteStartObject("properties");
            foreach (var (key, value) in properties)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
        }
    }

    /// <summary>The body of <c>POST /v1/events</c> for <paramref name="batch"/>.</summary>
    public static byte[] SerializeBatch(IReadOnlyList<PricingEvent> batch)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("events");
            foreach (var e in batch)
            {
                Write(writer, e);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return stream.ToArray();
    }
}
