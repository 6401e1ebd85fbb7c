using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
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
                    "application/json", new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string>(StringComparer.Ordinal) { "status", "event_log", "control_plane" },
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["status"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "`ready`." },
                            ["event_log"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The event log: `embedded` (SQLite) or `kafka`." },
                            ["control_plane"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The control plane's store: `sqlite` or `postgresql`." },
                        },
                    });
                document.Paths["/metrics"] = Plain(HttpMethod.Get, "Metrics",
                    "Prometheus text format: ingest, rejections, log latency, lander and dispatcher lag, dead letters, rate limits, compactions.", "text/plain",
                    new OpenApiSchema { Type = JsonSchemaType.String });
                return Task.CompletedTask;
            });
            options.AddSchemaTransformer((schema, context, _) =>
            {
                NumbersAsNumbers(schema);
                OptionalWhenNullable(schema, context.JsonTypeInfo);
                if (context.JsonTypeInfo.Type == typeof(ProblemDetails))
                {
                    DescribeProblem(schema);
                }

                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                BodyNotNull(operation);
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

    /// <summary>
    /// The API reads numbers written as strings too (System.Text.Json's web defaults), but answers and documents them as
    /// JSON numbers only: a typed client gets <c>number</c>, not <c>number | string</c>.
    /// </summary>
    private static void NumbersAsNumbers(OpenApiSchema schema)
    {
        if (schema.Type is { } type && (type & (JsonSchemaType.Number | JsonSchemaType.Integer)) != 0 && type.HasFlag(JsonSchemaType.String))
        {
            schema.Type = type & ~JsonSchemaType.String;
            schema.Pattern = null;
        }
    }

    /// <summary>
    /// A property that may be null may also be left out: it is not <c>required</c>, unless the record marks it
    /// <c>[Required]</c> (a field the endpoint rejects when missing, typed nullable only so that the rejection can name it).
    /// </summary>
    private static void OptionalWhenNullable(OpenApiSchema schema, System.Text.Json.Serialization.Metadata.JsonTypeInfo type)
    {
        if (schema.Properties is null)
        {
            return;
        }

        var markedRequired = type.Properties
            .Where(p => p.AttributeProvider?.IsDefined(typeof(System.ComponentModel.DataAnnotations.RequiredAttribute), inherit: true) == true)
            .Select(p => p.Name)
            .ToHashSet(StringComparer.Ordinal);
        foreach (var (name, property) in schema.Properties)
        {
            if (markedRequired.Contains(name))
            {
                schema.Required ??= new HashSet<string>(StringComparer.Ordinal);
                schema.Required.Add(name);
                if (property is OpenApiSchema { Type: { } propertyType } concrete)
                {
                    concrete.Type = propertyType & ~JsonSchemaType.Null;
                }
            }
            else if (AllowsNull(property))
            {
                schema.Required?.Remove(name);
            }
        }

        if (schema.Required is { Count: 0 })
        {
            schema.Required = null;
        }
    }

    private static bool AllowsNull(IOpenApiSchema property) =>
        property.Type?.HasFlag(JsonSchemaType.Null) == true || property.OneOf?.Any(s => s.Type == JsonSchemaType.Null) == true;

    /// <summary>Every error names what to fix: the document lists the extensions the API adds to problem+json.</summary>
    private static void DescribeProblem(OpenApiSchema schema)
    {
        schema.Properties ??= new Dictionary<string, IOpenApiSchema>();
        schema.Properties["field"] = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Description = "The request field, parameter or header to fix (`body`, `path`, `Authorization`, `events[3].price` …).",
        };
        schema.Properties["allowed"] = new OpenApiSchema
        {
            Type = JsonSchemaType.Array,
            Items = new OpenApiSchema { Type = JsonSchemaType.String },
            Description = "On a 409 for an illegal lifecycle move: the moves allowed from the current status.",
        };
        schema.Properties["current_etag"] = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Description = "On a 412: the resource's current ETag, for the next If-Match.",
        };
        schema.Properties["unavailable"] = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Description = "On a 503: the component that could not answer (`event_log`, `control_plane`); retry after Retry-After seconds.",
        };
        schema.Properties["trace_id"] = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Description = "The request's trace id, as in the API's logs: quote it when reporting a problem.",
        };
        schema.Required = new HashSet<string>(StringComparer.Ordinal) { "status", "title" };
    }

    /// <summary>A handler takes its body as nullable so that a missing one is a 400 naming it; the document asks for one.</summary>
    private static void BodyNotNull(OpenApiOperation operation)
    {
        if (operation.RequestBody is not OpenApiRequestBody body || body.Content is null)
        {
            return;
        }

        foreach (var media in body.Content.Values)
        {
            if (media.Schema?.OneOf is { Count: 2 } oneOf && oneOf.Count(s => s.Type == JsonSchemaType.Null) == 1)
            {
                media.Schema = oneOf.Single(s => s.Type != JsonSchemaType.Null);
            }
        }

        body.Required = true;
    }

    private static OpenApiPathItem Plain(HttpMethod method, string id, string summary, string contentType, OpenApiSchema schema) => new()
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
                    ["200"] = new OpenApiResponse { Description = "OK", Content = new Dictionary<string, OpenApiMediaType> { [contentType] = new() { Schema = schema } } },
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
