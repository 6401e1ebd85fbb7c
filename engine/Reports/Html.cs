using System.Globalization;
using System.Net;
using System.Text;

namespace PricingOptimizer.Reports;

/// <summary>Small HTML pieces shared by the report and the notebooks (which show them with <c>display(HTML(…))</c>).</summary>
public static class Html
{
    public static string Encode(string text) => WebUtility.HtmlEncode(text);

    /// <summary>A table; cells are text and are escaped.</summary>
    public static string Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var html = new StringBuilder("<table><thead><tr>");
        foreach (var h in header)
        {
            html.Append(CultureInfo.InvariantCulture, $"<th>{Encode(h)}</th>");
        }

        html.Append("</tr></thead><tbody>\n");
        foreach (var row in rows)
        {
            html.Append("<tr>");
            foreach (var cell in row)
            {
                html.Append(CultureInfo.InvariantCulture, $"<td>{Encode(cell)}</td>");
            }

            html.Append("</tr>\n");
        }

        return html.Append("</tbody></table>\n").ToString();
    }

    /// <summary>A PNG embedded as a data URI, with a caption.</summary>
    public static string Image(byte[] png, string caption) =>
        $"<figure><img alt=\"{Encode(caption)}\" " +
            $"src=\"data:image/png;base64,{Convert.ToBase64String(png)}\"/><figcaption>{Encode(caption)}</figcaption></figure>\n";
}
