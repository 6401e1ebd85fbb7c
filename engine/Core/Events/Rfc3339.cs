namespace PricingOptimizer.Events;

/// <summary>
/// Parses RFC 3339 timestamps (<c>2026-01-31T12:00:00.123456Z</c>, <c>…+01:00</c>) by position. A hand parser:
/// timestamps are on the ingest hot path, and this is several times cheaper than a regex plus DateTimeOffset.TryParse.
/// </summary>
public static class Rfc3339
{
    /// <summary>Parses <paramref name="text"/>; fractions beyond 100 ns are truncated. The offset is required.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out DateTimeOffset value)
    {
        value = default;
        if (text.Length < 20 || text[4] != '-' || text[7] != '-' || (text[10] is not ('T' or 't' or ' ')) || text[13] != ':' || text[16] != ':')
        {
            return false;
        }

        if (!Digits(text[..4], out var year) || !Digits(text.Slice(5, 2), out var month) || !Digits(text.Slice(8, 2), out var day) ||
            !Digits(text.Slice(11, 2), out var hour) || !Digits(text.Slice(14, 2), out var minute) || !Digits(text.Slice(17, 2), out var second))
        {
            return false;
        }

        var i = 19;
        long fractionTicks = 0;
        if (text[i] == '.')
        {
            i++;
            var start = i;
            var scale = TimeSpan.TicksPerSecond / 10;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                fractionTicks += (text[i] - '0') * scale;
                scale /= 10;
                i++;
            }

            if (i == start)
            {
                return false;
            }
        }

        if (i >= text.Length)
        {
            return false;
        }

        TimeSpan offset;
        if (text[i] is 'Z' or 'z')
        {
            offset = TimeSpan.Zero;
            i++;
        }
        else if (text[i] is '+' or '-' && text.Length - i == 6 && text[i + 3] == ':' &&
                 Digits(text.Slice(i + 1, 2), out var offsetHours) && Digits(text.Slice(i + 4, 2), out var offsetMinutes) &&
                 offsetHours <= 14 && offsetMinutes < 60)
        {
            offset = new TimeSpan(offsetHours, offsetMinutes, 0);
            if (text[i] == '-')
            {
                offset = -offset;
            }

            i += 6;
        }
        else
        {
            return false;
        }

        if (i != text.Length || month is < 1 or > 12 || day < 1 || year < 1 || day > DateTime.DaysInMonth(year, month) ||
            hour > 23 || minute > 59 || second > 60)
        {
            return false;
        }

        // A leap second (:60) is read as the last instant of the minute.
        var ticks = new DateTime(year, month, day, hour, minute, Math.Min(second, 59), DateTimeKind.Unspecified).Ticks +
                    (second == 60 ? TimeSpan.TicksPerSecond - 1 : fractionTicks);
        // Both the local time and the instant it names must be representable (0001-01-01T00:00:00+14:00 is not).
        if (ticks > DateTime.MaxValue.Ticks || ticks - offset.Ticks < DateTime.MinValue.Ticks || ticks - offset.Ticks > DateTime.MaxValue.Ticks)
        {
            return false;
        }

        value = new DateTimeOffset(new DateTime(ticks, DateTimeKind.Unspecified), offset);
        return true;
    }

    private static bool Digits(ReadOnlySpan<char> span, out int value)
    {
        value = 0;
        foreach (var c in span)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }
}
