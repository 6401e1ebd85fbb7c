using System.Reflection;

namespace PricingOptimizer.IngestApi;

/// <summary>
/// <c>/app</c>: the web dashboard, three files compiled into this assembly (<c>Dashboard/</c>) and served with a content
/// security policy that allows nothing but this origin: no CDN, no inline script or style, no framing. The page reads
/// only the public API, with a token it holds in memory.
/// </summary>
public static class DashboardApp
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'";

    private static readonly Dictionary<string, (string Resource, string ContentType)> Files = new(StringComparer.Ordinal)
    {
        [""] = ("index.html", "text/html; charset=utf-8"),
        ["app.js"] = ("app.js", "text/javascript; charset=utf-8"),
        ["app.css"] = ("app.css", "text/css; charset=utf-8"),
    };

    public static IEndpointRouteBuilder MapDashboardApp(this IEndpointRouteBuilder app)
    {
        app.MapGet("/app", (HttpContext context) => Serve(context, ""))
            .WithName("Dashboard").WithSummary("The web dashboard (HTML); sign in with an API key.").WithTags("dashboard")
            .Produces<string>(StatusCodes.Status200OK, "text/html");
        app.MapGet("/app/{file}", (string file, HttpContext context) => Serve(context, file))
            .WithName("DashboardAsset").WithSummary("The dashboard's script and style sheet (app.js, app.css).").WithTags("dashboard")
            .Produces<string>(StatusCodes.Status200OK, "text/javascript", "text/css").ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static IResult Serve(HttpContext context, string file)
    {
        if (!Files.TryGetValue(file, out var entry))
        {
            return Results.Problem(statusCode: 404, title: "Not found", detail: $"no dashboard file '{file}'",
                extensions: new Dictionary<string, object?> { ["field"] = "path" });
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        var stream = typeof(DashboardApp).Assembly.GetManifestResourceStream("Dashboard." + entry.Resource)
                     ?? throw new InvalidOperationException($"the dashboard's {entry.Resource} is not in the assembly");
        return Results.Stream(stream, entry.ContentType);
    }
}
