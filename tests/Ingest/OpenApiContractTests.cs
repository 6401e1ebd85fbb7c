using System.Net;
using System.Text.Json;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Ingest;

/// <summary>
/// The document as a typed-client generator needs it (every operation's success body, every reference resolvable,
/// numbers as numbers, optional fields optional, errors naming their field), and the API's real answers checked
/// against the schemas it publishes.
/// </summary>
public sealed class OpenApiContractTests : IDisposable
{
    private const string AdminKey = "contract-admin-key";
    private readonly IngestApiFactory api = new(new Dictionary<string, string?> { ["Auth:AdminKey"] = AdminKey });

    public void Dispose() => api.Dispose();

    private async Task<JsonElement> DocumentAsync()
    {
        using var client = api.CreateClient();
        return await IngestApiFactory.ReadJsonAsync(await client.GetAsync("/openapi/v1.json"));
    }

    private static IEnumerable<(string Path, string Method, JsonElement Operation)> Operations(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(o => (p.Name, o.Name, o.Value)));

    [Fact]
    public async Task Every_operation_declares_a_success_body()
    {
        var document = await DocumentAsync();
        var lacking = new List<string>();
        foreach (var (path, method, operation) in Operations(document))
        {
            var successes = operation.GetProperty("responses").EnumerateObject().Where(r => r.Name.StartsWith('2')).ToList();
            var described = successes.Any(r => r.Name == "204" ||
                (r.Value.TryGetProperty("content", out var content) && content.EnumerateObject().Any(m => m.Value.TryGetProperty("schema", out _))));
            if (!described)
            {
                lacking.Add($"{method.ToUpperInvariant()} {path}");
            }
        }

        Assert.True(Operations(document).Count() > 30);
        Assert.True(lacking.Count == 0, "no 2xx schema: " + string.Join(", ", lacking));
    }

    [Fact]
    public async Task Every_reference_names_a_schema_the_document_holds()
    {
        var document = await DocumentAsync();
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var references = new List<string>();
        Collect(document, references);
        Assert.NotEmpty(references);
        var dangling = references.Distinct().Where(r => !r.StartsWith("#/components/schemas/", StringComparison.Ordinal) ||
            !schemas.TryGetProperty(r["#/components/schemas/".Length..], out _)).ToList();
        Assert.True(dangling.Count == 0, "dangling: " + string.Join(", ", dangling));

        static void Collect(JsonElement element, List<string> into)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "$ref" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        into.Add(property.Value.GetString()!);
                    }
                    else
                    {
                        Collect(property.Value, into);
                    }
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item, into);
                }
            }
        }
    }

    [Fact]
    public async Task Numbers_are_numbers_optional_fields_are_optional_and_errors_name_a_field()
    {
        var document = await DocumentAsync();
        var schemas = document.GetProperty("components").GetProperty("schemas");

        // A generated client types a price as number, never number | string.
        var mixed = new List<string>();
        foreach (var schema in schemas.EnumerateObject())
        {
            foreach (var property in Properties(schema.Value))
            {
                var types = Types(property.Value);
                if (types.Contains("string") && (types.Contains("number") || types.Contains("integer")))
                {
                    mixed.Add($"{schema.Name}.{property.Name}");
                }
            }
        }

        Assert.True(mixed.Count == 0, "number or string: " + string.Join(", ", mixed));
        Assert.Equal(["number"], Types(schemas.GetProperty("ConvertRequest").GetProperty("properties").GetProperty("price")).Except(["null"]));

        // What the API fills in when absent is optional; what it rejects when absent is required and not nullable.
        var convert = Required(schemas.GetProperty("ConvertRequest"));
        Assert.Equal(["event_id", "experiment_id", "user_id"], convert.Order());
        Assert.DoesNotContain("null", Types(schemas.GetProperty("ConvertRequest").GetProperty("properties").GetProperty("user_id")));
        var eventContract = Required(schemas.GetProperty("EventContract"));
        Assert.DoesNotContain("revenue", eventContract);
        Assert.DoesNotContain("properties", eventContract);
        Assert.Contains("occurred_at", eventContract);
        Assert.DoesNotContain("mode", Required(schemas.GetProperty("AdapterRequest")));

        var problem = schemas.GetProperty("ProblemDetails").GetProperty("properties");
        Assert.Equal(["string"], Types(problem.GetProperty("field")));
        Assert.Equal(["integer"], Types(problem.GetProperty("status")).Except(["null"]));
    }

    [Fact]
    public async Task The_answers_match_the_schemas_the_document_publishes()
    {
        var document = await DocumentAsync();
        var (_, apiKey, client) = await api.CreateTenantAsync(AdminKey, "Contract shop", "pro");
        using var anonymous = api.CreateClient();
        var checks = new List<(string Path, string Method, string Status, JsonElement Body)>();

        async Task<JsonElement> Call(string method, string path, string route, string? body, HttpStatusCode expected, HttpClient? with = null)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : IngestApiFactory.Json(body) };
            var json = await IngestApiFactory.ReadJsonAsync(await (with ?? client).SendAsync(request), expected);
            checks.Add((route, method.ToLowerInvariant(), ((int)expected).ToString(System.Globalization.CultureInfo.InvariantCulture), json));
            return json;
        }

        await Call("POST", "/v1/auth/token", "/v1/auth/token", $$"""{"api_key":"{{apiKey}}"}""", HttpStatusCode.OK, anonymous);
        await Call("POST", "/v1/experiments", "/v1/experiments",
            """{"experiment_id":"shop","name":"Shop","currency":"USD","variants":[{"variant_id":"a","price":9.99,"control":true},{"variant_id":"b","price":12.5}]}""",
            HttpStatusCode.Created);
        await Call("POST", "/v1/experiments/shop/start", "/v1/experiments/{experimentId}/{action}", null, HttpStatusCode.OK);
        await Call("GET", "/v1/experiments", "/v1/experiments", null, HttpStatusCode.OK);
        await Call("GET", "/v1/experiments/shop", "/v1/experiments/{experimentId}", null, HttpStatusCode.OK);
        await Call("GET", "/v1/experiments/shop/allocation", "/v1/experiments/{experimentId}/allocation", null, HttpStatusCode.OK);
        for (var user = 0; user < 6; user++)
        {
            await Call("POST", "/v1/assign", "/v1/assign", $$"""{"experiment_id":"shop","user_id":"u{{user}}"}""", HttpStatusCode.OK);
        }

        await Call("POST", "/v1/convert", "/v1/convert", """{"experiment_id":"shop","user_id":"u1","event_id":"c1","revenue":25}""", HttpStatusCode.Accepted);
        await Call("GET", "/v1/experiments/shop/readout", "/v1/experiments/{experimentId}/readout", null, HttpStatusCode.OK);
        await Call("GET", "/v1/usage", "/v1/usage", null, HttpStatusCode.OK);
        await Call("GET", "/v1/usage/trend", "/v1/usage/trend", null, HttpStatusCode.OK);
        await Call("GET", $"/v1/billing/{DateTime.UtcNow:yyyy-MM}", "/v1/billing/{month}", null, HttpStatusCode.OK);
        await Call("GET", "/v1/analytics/experiments", "/v1/analytics/experiments", null, HttpStatusCode.OK);
        await Call("GET", "/v1/api-keys", "/v1/api-keys", null, HttpStatusCode.OK);
        await Call("POST", "/v1/api-keys", "/v1/api-keys", null, HttpStatusCode.Created);
        await Call("GET", "/healthz", "/healthz", null, HttpStatusCode.OK, anonymous);
        await Call("GET", "/readyz", "/readyz", null, HttpStatusCode.OK, anonymous);
        // Errors too: problem+json with the field at fault.
        await Call("POST", "/v1/assign", "/v1/assign", """{"experiment_id":"shop"}""", HttpStatusCode.BadRequest);
        await Call("GET", "/v1/experiments/nope", "/v1/experiments/{experimentId}", null, HttpStatusCode.NotFound);

        var failures = new List<string>();
        foreach (var (path, method, status, body) in checks)
        {
            var response = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses").GetProperty(status);
            var schema = response.GetProperty("content").EnumerateObject().First().Value.GetProperty("schema");
            Validate(document, schema, body, $"{method.ToUpperInvariant()} {path} {status}", failures);
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        var missing = checks.Single(c => c.Status == "400").Body;
        Assert.Equal("user_id", missing.GetProperty("field").GetString());
    }

    /// <summary>A JSON-schema check of the parts a typed client relies on: types, required properties, items, references.</summary>
    private static void Validate(JsonElement document, JsonElement schema, JsonElement value, string at, List<string> failures)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            var name = reference.GetString()!["#/components/schemas/".Length..];
            Validate(document, document.GetProperty("components").GetProperty("schemas").GetProperty(name), value, at, failures);
            return;
        }

        if (schema.TryGetProperty("oneOf", out var oneOf))
        {
            var options = oneOf.EnumerateArray().ToList();
            if (!options.Any(option =>
                {
                    var attempt = new List<string>();
                    Validate(document, option, value, at, attempt);
                    return attempt.Count == 0;
                }))
            {
                failures.Add($"{at}: {value} matches none of oneOf");
            }

            return;
        }

        var types = Types(schema);
        var kind = value.ValueKind switch
        {
            JsonValueKind.Null => "null",
            JsonValueKind.String => "string",
            JsonValueKind.Number => value.TryGetInt64(out _) ? "integer" : "number",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            JsonValueKind.Array => "array",
            _ => "object",
        };
        if (types.Count > 0 && !types.Contains(kind) && !(kind == "integer" && types.Contains("number")))
        {
            failures.Add($"{at}: {kind} where the schema says {string.Join(" | ", types)}");
            return;
        }

        if (kind == "object")
        {
            foreach (var name in Required(schema).Where(name => !value.TryGetProperty(name, out _)))
            {
                failures.Add($"{at}: required '{name}' missing");
            }

            foreach (var property in value.EnumerateObject())
            {
                if (schema.TryGetProperty("properties", out var properties) && properties.TryGetProperty(property.Name, out var propertySchema))
                {
                    Validate(document, propertySchema, property.Value, $"{at}.{property.Name}", failures);
                }
                else if (schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.Object)
                {
                    Validate(document, additional, property.Value, $"{at}.{property.Name}", failures);
                }
                else if (schema.TryGetProperty("properties", out _))
                {
                    failures.Add($"{at}: '{property.Name}' is not in the schema");
                }
            }
        }
        else if (kind == "array" && schema.TryGetProperty("items", out var items))
        {
            var index = 0;
            foreach (var item in value.EnumerateArray())
            {
                Validate(document, items, item, $"{at}[{index++}]", failures);
            }
        }
    }

    private static IEnumerable<JsonProperty> Properties(JsonElement schema) =>
        schema.TryGetProperty("properties", out var properties) ? properties.EnumerateObject() : [];

    private static List<string> Types(JsonElement schema) =>
        !schema.TryGetProperty("type", out var type) ? []
        : type.ValueKind == JsonValueKind.Array ? [.. type.EnumerateArray().Select(t => t.GetString()!)]
        : [type.GetString()!];

    private static HashSet<string> Required(JsonElement schema) =>
        schema.TryGetProperty("required", out var required) ? [.. required.EnumerateArray().Select(r => r.GetString()!)] : [];
}
