using System.Text;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary>Terminal text at a width: lines longer than it are wrapped at spaces, continued under their own text.</summary>
public static class TextLayout
{
    /// <summary>The width <c>po readout</c> and <c>po recommend</c> fit unless <c>--wide</c>.</summary>
    public const int Columns = 100;

    public static string Wrap(string text, int width = Columns)
    {
        var result = new StringBuilder();
        foreach (var line in text.Split('\n'))
        {
            var rest = line.TrimEnd('\r');
            if (rest.Length <= width)
            {
                result.Append(rest).Append('\n');
                continue;
            }

            // Continue under the line's text: after its indent, and after a "- " bullet.
            var indent = rest.Length - rest.TrimStart().Length;
            if (rest.AsSpan(indent).StartsWith("- "))
            {
                indent += 2;
            }

            var pad = new string(' ', Math.Min(indent, width / 2));
            while (rest.Length > width)
            {
                var cut = rest.LastIndexOf(' ', width);
                if (cut <= pad.Length)
                {
                    cut = rest.IndexOf(' ', width);
                    if (cut < 0)
                    {
                        break;
                    }
                }

                result.Append(rest.AsSpan(0, cut).TrimEnd()).Append('\n');
                rest = pad + rest[(cut + 1)..].TrimStart();
            }

            result.Append(rest).Append('\n');
        }

        // Each piece of the split got a newline: one more than the text had.
        result.Length--;

        return result.ToString();
    }
}
