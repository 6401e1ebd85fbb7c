using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace PricingOptimizer.IngestApi;

/// <summary>
/// <c>GET /openapi/v1.json</c> (Microsoft.AspNetCore.OpenApi): every endpoint with its summary, schemas in the API's
/// snake_case, problem+json errors, and the two security schemes — a tenant's bearer token and the admin key.
/// </summary>
public static class OpenApiDocument
{
    public const string Bearer = "bearer";
    public const string AdminKey = "admin_key";

    public static IServiceCollection AddPricingOptimizerOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "PricingOptimizer API",
                    Version = "v1",
                    Description = "Price experiments: ingest assign and convert events, manage experiments, read statistics and recommendations. " +
                                  "Errors are application/problem+json naming the field at fault.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "A tenant's token from POST /v1/auth/token (exchange the tenant's API key).",
                };
                document.Components.SecuritySchemes[AdminKey] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = "X-Admin-Key",
                    Description = "The operator's admin credential (Auth:AdminKey).",
                };
                // Two endpoints are not route handlers (health checks, the Prometheus exporter), so they are described here.
                document.Paths ??= [];
                document.Paths["/readyz"] = Plain(HttpMethod.Get, "Readyz",
                    "Readiness: the event log and the control-plane store are reachable (503 problem+json naming what is not).",
                    "application/json");
                document.Paths["/metrics"] = Plain(HttpMethod.Get, "Metrics",
                    "Prometheus text format: ingest, rejections, log latency, lander and dispatcher lag, dead letters, rate limits, compactions.", "text/plain");
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var admin = context.Description.RelativePath?.StartsWith("v1/admin", StringComparison.Ordinal) == true;
                var tenant = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Any();
                if (admin || tenant)
                {
                    operation.Security =
                    [
                        new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(admin ? AdminKey : Bearer, context.Document)] = [] },
                    ];
                }

                return Task.CompletedTask;
            });
        });

    private static OpenApiPathItem Plain(HttpMethod method, string id, string summary, string contentType) => new()
    {
        Operations = new Dictionary<HttpMethod, OpenApiOperation>
        {
            [method] = new()
            {
                OperationId = id,
                Summary = summary,
                Tags = new HashSet<OpenApiTagReference> { new("health") },
                Responses = new OpenApiResponses
                {
                    ["200"] = new OpenApiResponse { Description = "OK", Content = new Dictionary<string, OpenApiMediaType> { [contentType] = new() } },
                },
            },
        },
    };

    /// <summary>Every endpoint answers its errors as problem+json; the document says so once for all of them.</summary>
    public static RouteGroupBuilder WithProblemResponses(this RouteGroupBuilder group)
    {
        foreach (var status in new[] { StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound,
                     StatusCodes.Status429TooManyRequests, StatusCodes.Status503ServiceUnavailable })
        {
            group.ProducesProblem(status);
        }

        return group;
    }
}
