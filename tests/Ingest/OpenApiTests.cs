using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Ingest;

/// <summary><c>GET /openapi/v1.json</c> as a client generator reads it: every endpoint the app maps, documented.</summary>
public sealed partial class OpenApiTests : IDisposable
{
    private readonly IngestApiFactory api = new();

    public void Dispose() => api.Dispose();

    private async Task<JsonElement> DocumentAsync()
    {
        using var client = api.CreateClient();
        var response = await client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [GeneratedRegex(@"\{([^}:=?]+)[^}]*\}")]
    private static partial Regex Parameter();

    [Fact]
    public async Task The_document_lists_every_mapped_endpoint_with_a_summary()
    {
        var document = await DocumentAsync();
        var documented = document.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(o => (Path: p.Name, Method: o.Name.ToUpperInvariant(), Operation: o.Value)))
            .ToList();

        var mapped = api.Services.GetServices<EndpointDataSource>().SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && !raw.StartsWith("/openapi", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => (Path: "/" + Parameter().Replace(e.RoutePattern.RawText!.Trim('/'), "{$1}"), Method: m)))
            .Distinct()
            .ToList();

        Assert.True(mapped.Count > 30, $"only {mapped.Count} endpoints found");
        var missing = mapped.Where(m => !documented.Any(d => d.Path == m.Path && d.Method == m.Method)).ToList();
        Assert.True(missing.Count == 0, "not documented: " + string.Join(", ", missing.Select(m => $"{m.Method} {m.Path}")));
        var unsummarised = documented.Where(d => !d.Operation.TryGetProperty("summary", out var s) || string.IsNullOrWhiteSpace(s.GetString())).ToList();
        Assert.True(unsummarised.Count == 0, "no summary: " + string.Join(", ", unsummarised.Select(d => $"{d.Method} {d.Path}")));
    }

    [Fact]
    public async Task The_document_names_the_security_schemes_and_problem_json_errors()
    {
        var document = await DocumentAsync();
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("bearer", schemes.GetProperty("bearer").GetProperty("scheme").GetString());
        Assert.Equal("X-Admin-Key", schemes.GetProperty("admin_key").GetProperty("name").GetString());

        static string Security(JsonElement operation) =>
            operation.TryGetProperty("security", out var s) ? string.Join(",",
                s.EnumerateArray().SelectMany(r => r.EnumerateObject().Select(p => p.Name))) : "";
        var paths = document.GetProperty("paths");
        Assert.Equal("bearer", Security(paths.GetProperty("/v1/experiments").GetProperty("get")));
        Assert.Equal("admin_key", Security(paths.GetProperty("/v1/admin/tenants").GetProperty("post")));
        Assert.Equal("", Security(paths.GetProperty("/v1/auth/token").GetProperty("post")));

        // Schemas in the API's snake_case: the readout's v2 fields and the event contract's fields.
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.GetProperty("Readout").GetProperty("properties").TryGetProperty("cuped_variance_reduction", out _));
        Assert.True(schemas.GetProperty("VariantReadout").GetProperty("properties").TryGetProperty("revenue_lift_ci", out _));
        Assert.True(schemas.GetProperty("EventContract").GetProperty("properties").TryGetProperty("occurred_at", out _));
        Assert.True(schemas.GetProperty("IngestResponse").GetProperty("properties").TryGetProperty("rejected", out _));

        var badRequest = paths.GetProperty("/v1/events").GetProperty("post").GetProperty("responses").GetProperty("400");
        Assert.True(badRequest.GetProperty("content").TryGetProperty("application/problem+json", out _));
    }
}
