using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Hostile;

/// <summary>One API with a tenant, an active experiment (exp-1, USD: control 9.99, charm 8.99) and a draft (exp-d).</summary>
public sealed class HostileApiFixture : IAsyncLifetime
{
    public const string AdminKey = "hostile-admin-key-0123456789";

    public IngestApiFactory Api { get; } = new(new Dictionary<string, string?>
    {
        ["Auth:AdminKey"] = AdminKey,
        ["KeyManager:MasterKey"] = Convert.ToBase64String(new byte[32]),
    });

    public HttpClient Tenant { get; private set; } = null!;

    public string ApiKey { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        (_, ApiKey, Tenant) = await Api.CreateTenantAsync(AdminKey, "hostile co", "enterprise");
        await IngestApiFactory.CreateTestExperimentAsync(Tenant, "exp-1", start: true);
        await IngestApiFactory.CreateTestExperimentAsync(Tenant, "exp-d");
    }

    public Task DisposeAsync()
    {
        Tenant.Dispose();
        Api.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Malformed and hostile requests over every endpoint: each answers the expected 4xx as problem+json naming the field
/// (or, inside a batch of events, 202 with that event rejected beside the accepted good one) — never a 500.
/// </summary>
public sealed class HostileInputTests(HostileApiFixture fixture) : IClassFixture<HostileApiFixture>
{
    /// <summary>A request and what it must get: the status and the field named (for a batch, the rejected event's field).</summary>
    public sealed record Case(string Name, string Method, string Path, string Auth, byte[]? Body, int Status, string Field,
        string ContentType = "application/json")
    {
        public override string ToString() => Name;
    }

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    private static string Now => DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>A good event with <paramref name="field"/> set to the raw JSON <paramref name="value"/> (removed when null).</summary>
    private static string Event(string id, string? field = null, string? value = null)
    {
        var fields = new Dictionary<string, string>
        {
            ["event_id"] = $"\"{id}\"", ["type"] = "\"assign\"", ["experiment_id"] = "\"exp-1\"", ["variant_id"] = "\"control\"",
            ["user_id"] = $"\"user-{id}\"", ["price"] = "9.99", ["currency"] = "\"USD\"", ["occurred_at"] = $"\"{Now}\"",
        };
        if (field is not null)
        {
            if (value is null)
            {
                fields.Remove(field);
            }
            else
            {
                fields[field] = value;
            }
        }

        return "{" + string.Join(",", fields.Select(kv => $"\"{kv.Key}\":{kv.Value}")) + "}";
    }

    private static readonly (string Field, string? Value, string Why)[] EventMutations =
    [
        ("event_id", null, "missing"), ("event_id", "123", "a number"), ("event_id", "\"\"", "empty"), ("event_id", $"\"{new string('e', 129)}\"", "too long"),
        ("event_id", "\"a\\u0000b\"", "NUL"), ("event_id", "\"\\ud83d\"", "lone surrogate"),
        ("type", "\"purchase\"", "unknown type"), ("type", "1", "a number"), ("type", null, "missing"),
        ("experiment_id", "\"nope\"", "unknown experiment"), ("experiment_id", "42", "a number"), ("experiment_id", "\"\\ud83d\"",
            "lone surrogate"), ("experiment_id", null, "missing"),
        ("variant_id", "\"nope\"", "unknown variant"), ("variant_id", "[]", "an array"), ("variant_id", null, "missing"),
        ("user_id", "\"u\\u0000\"", "NUL"), ("user_id", "\"u\\u001b[31m\"", "escape"), ("user_id", "\"\\udc00x\"", "lone low surrogate"),
        ("user_id", $"\"{new string('u', 257)}\"", "too long"), ("user_id", "{}", "an object"), ("user_id", null, "missing"), ("user_id",
            "\"u\\u007f\"", "DEL"),
        ("price", "-1", "negative"), ("price", "\"abc\"", "text"), ("price", "true", "a boolean"), ("price", "1.23456", "five decimals"),
        ("price", "1e30", "huge"), ("price", "\"NaN\"", "NaN"), ("price", null, "missing"), ("price", "100000000000000", "beyond DECIMAL(18,4)"),
        ("revenue", "-5", "negative"), ("revenue", "\"x\"", "text"), ("revenue", "1.000001", "six decimals"),
        ("currency", "\"usd\"", "lower case"), ("currency", "\"EUR\"", "not the experiment's"), ("currency", "\"XX\"", "two letters"), ("currency",
            "5", "a number"),
        ("occurred_at", "\"0001-01-01T00:00:00+14:00\"", "before year 1 in UTC"), ("occurred_at", "\"9999-12-31T23:59:59-14:00\"", "after year 9999 in UTC"),
        ("occurred_at", "\"9999-12-31T23:59:60Z\"", "leap second at the end of time"), ("occurred_at", "\"2026-13-01T00:00:00Z\"", "month 13"),
        ("occurred_at", "\"yesterday\"", "words"), ("occurred_at", "\"2026-11-26T10:00:00\"", "no offset"), ("occurred_at", "1700000000", "a number"),
        ("occurred_at", "\"2999-01-01T00:00:00Z\"", "the future"),
        ("properties", "[]", "an array"), ("properties", "{\"a\":{\"b\":1}}", "nested"), ("properties", "\"x\"", "text"),
        ("properties", "{" + string.Join(",", Enumerable.Range(0, 33).Select(i => $"\"k{i}\":\"v\"")) + "}", "33 keys"),
        ("properties", "{\"k\":\"\\ud83d\"}", "lone surrogate value"), ("properties", "{\"" + new string('k', 65) + "\":\"v\"}", "long key"),
    ];

    private static string Expected(string field) => field == "properties" ? "properties" : field;

    public static TheoryData<Case> Cases()
    {
        var cases = new List<Case>();
        void Add(string name, string method, string path, string auth, byte[]? body, int status, string field, string contentType = "application/json") =>
            cases.Add(new Case(name, method, path, auth, body, status, field, contentType));

        // POST /v1/events: one bad event beside a good one (202, rejected), and alone (400).
        foreach (var (field, value, why) in EventMutations)
        {
            Add($"events: {field} {why}, beside a good event", "POST", "/v1/events", "tenant",
                B($"{{\"events\":[{Event("good-" + field + why.Length)},{Event("bad", field, value)}]}}"), 202, field);
            Add($"events: {field} {why}, alone", "POST", "/v1/events", "tenant", B($"{{\"events\":[{Event("bad", field, value)}]}}"), 400,
                "events[0]." + field);
        }

        // Invalid UTF-8 bytes inside a string value.
        var good = Event("good-utf8");
        foreach (var (field, bytes) in new[] { ("user_id", new byte[] { 0xC3, 0x28 }), ("event_id", new byte[] { 0xFF }),
            ("experiment_id", new byte[] { 0xED, 0xA0, 0x80 }) })
        {
            var bad = B(Event("bad", field, "\"x@@\"")).ToList();
            var at = bad.IndexOf((byte)'@');
            bad.RemoveRange(at, 2);
            bad.InsertRange(at, bytes);
            Add($"events: invalid UTF-8 in {field}, beside a good event", "POST", "/v1/events", "tenant",
                [.. B($"{{\"events\":[{good},"), .. bad, .. B("]}")], 202, field);
        }

        // The envelope.
        Add("events: truncated JSON", "POST", "/v1/events", "tenant", B("{\"events\":["), 400, "body");
        Add("events: not JSON", "POST", "/v1/events", "tenant", B("hello"), 400, "body");
        Add("events: a bare array", "POST", "/v1/events", "tenant", B("[]"), 400, "events");
        Add("events: events is an object", "POST", "/v1/events", "tenant", B("{\"events\":{}}"), 400, "events");
        Add("events: empty events", "POST", "/v1/events", "tenant", B("{\"events\":[]}"), 400, "events");
        Add("events: misspelt key", "POST", "/v1/events", "tenant", B("{\"evnts\":[]}"), 400, "events");
        Add("events: null", "POST", "/v1/events", "tenant", B("null"), 400, "events");
        Add("events: nested 100 deep", "POST", "/v1/events", "tenant", B(new string('[', 100) + new string(']', 100)), 400, "body");
        Add("events: text/plain", "POST", "/v1/events", "tenant", B("{\"events\":[]}"), 415, "Content-Type", "text/plain");
        Add("events: 1,001 events", "POST", "/v1/events", "tenant",
            B("{\"events\":[" + string.Join(",", Enumerable.Range(0, 1001).Select(i => "{}")) + "]}"), 413, "events");
        Add("events: over 1 MiB", "POST", "/v1/events", "tenant", B("{\"events\":[\"" + new string('x', 1 << 20) + "\"]}"), 413, "body");
        Add("events: no token", "POST", "/v1/events", "none", B($"{{\"events\":[{good}]}}"), 401, "Authorization");
        Add("events: forged token", "POST", "/v1/events", "forged", B($"{{\"events\":[{good}]}}"), 401, "Authorization");
        Add("events: events are strings", "POST", "/v1/events", "tenant", B("{\"events\":[\"x\"]}"), 400, "events[0].event");
        Add("events: invalid UTF-8 in a field name", "POST", "/v1/events", "tenant", [.. B("{\"events\":[{\""), 0xFF, .. B("\":1}]}")], 400, "events[0].event");

        // Experiments.
        const string Variants = "[{\"variant_id\":\"a\",\"price\":5,\"control\":true},{\"variant_id\":\"b\",\"price\":6}]";
        string Experiment(string field, string value)
        {
            var fields = new Dictionary<string, string> { ["experiment_id"] = "\"new-exp\"", ["name"] = "\"n\"", ["currency"] = "\"USD\"",
                ["variants"] = Variants };
            fields[field] = value;
            return "{" + string.Join(",", fields.Select(kv => $"\"{kv.Key}\":{kv.Value}")) + "}";
        }

        string V(string first) => $"[{first},{{\"variant_id\":\"b\",\"price\":6}}]";
        foreach (var (field, value, expected, status) in new (string, string, string, int)[]
                 {
                     ("name", "5", "name", 400), ("name", "\"\"", "name", 400), ("name", $"\"{new string('n', 201)}\"", "name", 400), ("name", "null",
                         "name", 400),
                     ("currency", "1", "currency", 400), ("currency", "\"usd\"", "currency", 400), ("currency", "\"\\ud83d\"", "currency", 400),
                     ("experiment_id", "\"bad id!\"", "experiment_id", 400), ("experiment_id", "7", "experiment_id", 400), ("experiment_id",
                         "\"exp-1\"", "experiment_id", 409),
                     ("variants", "\"x\"", "variants", 400), ("variants", "[]", "variants", 400), ("variants", "null", "variants", 400),
                     ("variants", "[null,{\"variant_id\":\"b\",\"price\":6,\"control\":true}]", "variants[0]", 400),
                     ("variants", "[" + string.Join(",",
                         Enumerable.Range(0, 101).Select(i => $"{{\"variant_id\":\"v{i}\",\"price\":{i},\"control\":{(i == 0 ? "true" : "false")}}}")) + "]", "variants", 400),
                     ("variants", V("{\"variant_id\":\"a\",\"price\":\"abc\",\"control\":true}"), "variants[0].price", 400),
                     ("variants", V("{\"variant_id\":\"a\",\"price\":5,\"weight\":\"x\",\"control\":true}"), "variants[0].weight", 400),
                     ("variants", V("{\"variant_id\":\"a\",\"price\":5,\"weight\":1e308,\"control\":true}"), "variants[0].weight", 400),
                     ("variants", V("{\"variant_id\":\"a\",\"price\":5,\"weight\":-1,\"control\":true}"), "variants[0].weight", 400),
                     ("variants", V("{\"variant_id\":\"a\",\"price\":5,\"weight\":0,\"control\":true}"), "variants[0].weight", 400),
                     ("variants", V("{\"variant_id\":\"a\",\"price\":5,\"control\":\"yes\"}"), "variants[0].control", 400),
                     ("variants", V("{\"variant_id\":\"a\",\"price\":-1,\"control\":true}"), "variants[0].price", 400),
                     ("variants", V("{\"variant_id\":\"a\",\"price\":1.00001,\"control\":true}"), "variants[0].price", 400),
                     ("variants", V("{\"variant_id\":\"a b\",\"price\":5,\"control\":true}"), "variants[0].variant_id", 400),
                     ("variants", V("{\"variant_id\":5,\"price\":5,\"control\":true}"), "variants[0].variant_id", 400),
                     ("variants", V("{\"variant_id\":\"b\",\"price\":5,\"control\":true}"), "variants", 400),
                     ("variants", V("{\"variant_id\":\"a\",\"price\":5}"), "variants", 400),
                     ("variants", "[1,2]", "variants[0]", 400),
                 })
        {
            Add($"experiments: {field} = {(value.Length > 40 ? value[..40] + "…" : value)}", "POST", "/v1/experiments", "tenant",
                B(Experiment(field, value)), status, expected);
        }

        Add("experiments: truncated JSON", "POST", "/v1/experiments", "tenant", B("{\"name\":"), 400, "body");
        Add("experiments: not JSON", "POST", "/v1/experiments", "tenant", B("name=x"), 400, "body");
        Add("experiments: null body", "POST", "/v1/experiments", "tenant", B("null"), 400, "body");
        Add("experiments: an array body", "POST", "/v1/experiments", "tenant", B("[]"), 400, "body");
        Add("experiments: text/plain", "POST", "/v1/experiments", "tenant", B(Experiment("name", "\"n\"")), 415, "Content-Type", "text/plain");
        Add("experiments: 100 KB body", "POST", "/v1/experiments", "tenant", B(Experiment("name", $"\"{new string('n', 100_000)}\"")), 413, "body");
        Add("experiments: no token", "GET", "/v1/experiments", "none", null, 401, "Authorization");
        Add("experiments: forged token", "GET", "/v1/experiments", "forged", null, 401, "Authorization");
        Add("experiments: unknown id", "GET", "/v1/experiments/nope", "tenant", null, 404, "path");
        Add("experiments: unknown id with odd characters", "GET", "/v1/experiments/%E2%98%83%01", "tenant", null, 404, "path");
        Add("experiments: change an active one's variants", "PUT", "/v1/experiments/exp-1", "tenant", B("{\"variants\":" + Variants + "}"), 409, "variants");
        Add("experiments: rename with a number", "PUT", "/v1/experiments/exp-d", "tenant", B("{\"name\":5}"), 400, "name");
        Add("experiments: replace an unknown one", "PUT", "/v1/experiments/nope", "tenant", B("{\"name\":\"x\"}"), 404, "path");
        Add("experiments: delete an active one", "DELETE", "/v1/experiments/exp-1", "tenant", null, 409, "path");
        Add("experiments: an unknown action", "POST", "/v1/experiments/exp-1/launch", "tenant", null, 404, "path");
        Add("experiments: pause a draft", "POST", "/v1/experiments/exp-d/pause", "tenant", null, 409, "status");

        // Readout and recommendation.
        Add("readout: unknown experiment", "GET", "/v1/experiments/nope/readout", "tenant", null, 404, "experiment_id");
        foreach (var (query, field) in new[]
                 {
                     ("?cap_percentile=abc", "cap_percentile"), ("?cap_percentile=0", "cap_percentile"), ("?cap_percentile=99", "cap_percentile"),
                     ("?cap_percentile=-0.5", "cap_percentile"), ("?cap_percentile=NaN", "cap_percentile"), ("?cap_percentile=1e999", "cap_percentile"),
                     ("?sequential_tuning=0", "sequential_tuning"), ("?sequential_tuning=-3", "sequential_tuning"), ("?sequential_tuning=Infinity",
                         "sequential_tuning"),
                     ("?sequential_tuning=1e13", "sequential_tuning"), ("?cuped=maybe", "cuped"),
                     ("?attribution_days=0", "attribution_days"), ("?attribution_days=-1", "attribution_days"), ("?attribution_days=2.5", "attribution_days"),
                     ("?attribution_days=99999", "attribution_days"), ("?attribution_days=abc", "attribution_days"), ("?mature_only=true", "mature_only"),
                     ("?attribution_days=7&mature_only=perhaps", "mature_only"),
                 })
        {
            Add($"readout: '{query}'", "GET", "/v1/experiments/exp-1/readout" + query, "tenant", null, 400, field);
        }

        foreach (var (query, field) in new[]
                 {
                     ("", "goal"), ("?goal=money", "goal"), ("?goal=profit", "unit_cost"), ("?goal=profit&unit_cost=abc", "unit_cost"),
                     ("?goal=revenue&extrapolation_margin=5", "extrapolation_margin"), ("?goal=revenue&extrapolation_margin=abc", "extrapolation_margin"),
                     ("?goal=conversions", "price_floor"), ("?goal=revenue&price_floor=1e999", "price_floor"),
                     ("?goal=revenue&cap_percentile=2", "cap_percentile"), ("?goal=revenue&cap_percentile=abc", "cap_percentile"),
                     ("?goal=revenue&attribution_days=0", "attribution_days"), ("?goal=revenue&mature_only=true", "mature_only"),
                     ("?goal=revenue&attribution_days=x", "attribution_days"),
                 })
        {
            Add($"recommendation: '{query}'", "GET", "/v1/experiments/exp-1/recommendation" + query, "tenant", null, 400, field);
        }

        // Assign and convert.
        foreach (var (body, field, status) in new[]
                 {
                     ("{", "body", 400), ("null", "experiment_id", 400), ("{\"experiment_id\":5,\"user_id\":\"u\"}", "experiment_id", 400),
                     ("{\"experiment_id\":\"exp-1\",\"user_id\":\"u\\u0000\"}", "user_id",
                         400), ("{\"experiment_id\":\"exp-1\",\"user_id\":\"u\\u001b\"}", "user_id", 400),
                     ("{\"experiment_id\":\"exp-1\",\"user_id\":\"\\ud83d\"}", "user_id",
                         400), ($"{{\"experiment_id\":\"exp-1\",\"user_id\":\"{new string('u', 257)}\"}}", "user_id", 400),
                     ("{\"experiment_id\":\"exp-1\"}", "user_id", 400), ("{\"experiment_id\":\"nope\",\"user_id\":\"u\"}", "experiment_id", 404),
                     ("{\"experiment_id\":\"exp-d\",\"user_id\":\"u\"}", "experiment_id", 409), ("{\"user_id\":\"u\"}", "experiment_id", 400),
                     ("{\"experiment_id\":\"exp-1\",\"user_id\":[\"u\"]}", "user_id", 400),
                 })
        {
            Add($"assign: {body[..Math.Min(body.Length, 50)]}", "POST", "/v1/assign", "tenant", B(body), status, field);
        }

        foreach (var (extra, field) in new[]
                 {
                     (",\"price\":\"abc\"", "price"), (",\"revenue\":-1", "revenue"), (",\"occurred_at\":\"0001-01-01T00:00:00+14:00\"", "occurred_at"),
                     (",\"occurred_at\":\"9999-12-31T23:59:59-14:00\"", "occurred_at"), (",\"revenue\":1e40", "revenue"), (",\"price\":-3", "price"),
                 })
        {
            Add($"convert: {extra}", "POST", "/v1/convert", "tenant",
                B("{\"experiment_id\":\"exp-1\",\"user_id\":\"u1\",\"event_id\":\"c-1\"" + extra + "}"), 400, field);
        }

        Add("convert: no event id", "POST", "/v1/convert", "tenant", B("{\"experiment_id\":\"exp-1\",\"user_id\":\"u1\"}"), 400, "event_id");
        Add("convert: NUL in user id", "POST", "/v1/convert", "tenant",
            B("{\"experiment_id\":\"exp-1\",\"user_id\":\"u\\u0000\",\"event_id\":\"c-2\"}"), 400, "user_id");

        // Usage and billing.
        foreach (var month in new[] { "9999-12", "0000-01", "2026-13", "abc", "2026-1", "1969-12", "%01" })
        {
            Add($"usage: month {month}", "GET", "/v1/usage?month=" + month, "tenant", null, 400, "month");
            Add($"billing: month {month}", "GET", "/v1/billing/" + month, "tenant", null, 400, "month");
        }

        foreach (var (body, field) in new[]
                 {
                     ("{}", "provider"), ("{\"provider\":\"x\"}", "provider"), ("{\"provider\":\"manual\",\"mode\":\"x\"}",
                         "mode"), ("{\"provider\":5}", "provider"),
                     ("{", "body"), ("{\"provider\":\"manual\",\"mode\":\"byok\"}", "mode"), ("{\"provider\":\"stripe\",\"mode\":\"byok\"}", "mode"),
                 })
        {
            Add($"billing adapter: {body}", "PUT", "/v1/billing/adapter", "tenant", B(body), 400, field);
        }

        Add("dead letters: limit 0", "GET", "/v1/billing/dead-letters?limit=0", "tenant", null, 400, "limit");
        Add("dead letters: limit abc", "GET", "/v1/billing/dead-letters?limit=abc", "tenant", null, 400, "limit");
        Add("dead letters: limit 5000", "GET", "/v1/billing/dead-letters?limit=5000", "tenant", null, 400, "limit");

        // Provider keys, tokens, API keys.
        Add("provider keys: unknown provider", "PUT", "/v1/provider-keys/nope", "tenant", B("{\"key\":\"sk_test_1234\"}"), 404, "provider");
        Add("provider keys: no key", "PUT", "/v1/provider-keys/stripe", "tenant", B("{}"), 400, "key");
        Add("provider keys: key is a number", "PUT", "/v1/provider-keys/stripe", "tenant", B("{\"key\":5}"), 400, "key");
        Add("provider keys: key with spaces", "PUT", "/v1/provider-keys/stripe", "tenant", B("{\"key\":\"a b\"}"), 400, "key");
        Add("token: empty body", "POST", "/v1/auth/token", "none", B("{}"), 401, "api_key");
        Add("token: key is a number", "POST", "/v1/auth/token", "none", B("{\"api_key\":5}"), 400, "api_key");
        Add("token: malformed", "POST", "/v1/auth/token", "none", B("{\"api_key\""), 400, "body");
        Add("token: unknown key", "POST", "/v1/auth/token", "none", B("{\"api_key\":\"po_0000000000000000000000000000000000000000000\"}"), 401, "api_key");
        Add("api keys: revoke an unknown prefix", "DELETE", "/v1/api-keys/po_nope", "tenant", null, 404, "prefix");

        // Admin.
        Add("admin: no key", "GET", "/v1/admin/tenants", "none", null, 401, "X-Admin-Key");
        Add("admin: wrong key, with a body", "POST", "/v1/admin/tenants", "badadmin", B("{\"name\":\"x\",\"plan\":\"free\"}"), 401, "X-Admin-Key");
        Add("admin: a tenant token is not the admin key", "GET", "/v1/admin/tenants", "tenant", null, 401, "X-Admin-Key");
        Add("admin: name is a number", "POST", "/v1/admin/tenants", "admin", B("{\"name\":5,\"plan\":\"free\"}"), 400, "name");
        Add("admin: unknown plan", "POST", "/v1/admin/tenants", "admin", B("{\"name\":\"x\",\"plan\":\"gold\"}"), 400, "plan");
        Add("admin: malformed", "POST", "/v1/admin/tenants", "admin", B("{\"name\""), 400, "body");
        Add("admin: null body", "POST", "/v1/admin/tenants", "admin", B("null"), 400, "body");
        Add("admin: change an unknown tenant's plan", "PATCH", "/v1/admin/tenants/nope", "admin", B("{\"plan\":\"pro\"}"), 404, "path");
        Add("admin: no plan", "PATCH", "/v1/admin/tenants/nope", "admin", B("{}"), 400, "plan");
        Add("admin: unknown tenant", "GET", "/v1/admin/tenants/nope", "admin", null, 404, "path");

        // Routes and methods.
        Add("route: unknown", "GET", "/v1/nothing", "tenant", null, 404, "path");
        Add("route: unknown, anonymous", "GET", "/nothing", "none", null, 404, "path");
        Add("method: DELETE /v1/events", "DELETE", "/v1/events", "tenant", null, 405, "method");
        Add("method: PATCH /v1/assign", "PATCH", "/v1/assign", "tenant", B("{}"), 405, "method");
        Add("method: GET /v1/auth/token", "GET", "/v1/auth/token", "none", null, 405, "method");
        var data = new TheoryData<Case>();
        foreach (var c in cases)
        {
            data.Add(c);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_hostile_request_gets_its_4xx_naming_the_field(Case c)
    {
        using var request = new HttpRequestMessage(new HttpMethod(c.Method), c.Path);
        if (c.Body is not null)
        {
            request.Content = new ByteArrayContent(c.Body);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(c.ContentType);
        }

        using var client = c.Auth switch
        {
            "tenant" => fixture.Api.ClientFor(TenantOf(fixture)),
            _ => fixture.Api.CreateClient(),
        };
        switch (c.Auth)
        {
            case "forged":
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
                    "eyJhbGciOiJIUzI1NiJ9.eyJ0ZW5hbnRfaWQiOiJ0LTEiLCJwbGFuIjoicHJvIn0.c2lnbmF0dXJlLW9mLW5vYm9keQ");
                break;
            case "admin":
                client.DefaultRequestHeaders.Add("X-Admin-Key", HostileApiFixture.AdminKey);
                break;
            case "badadmin":
                client.DefaultRequestHeaders.Add("X-Admin-Key", "guess");
                break;
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(c.Status == (int)response.StatusCode, $"{c.Name}: expected {c.Status}, got {(int)response.StatusCode}: {text}");
        using var body = JsonDocument.Parse(text);
        if (c.Status == 202)
        {
            Assert.Equal(1, body.RootElement.GetProperty("accepted").GetInt32());
            var rejected = body.RootElement.GetProperty("rejected").EnumerateArray().ToList();
            Assert.NotEmpty(rejected);
            Assert.All(rejected, r => Assert.Equal(1, r.GetProperty("index").GetInt32()));
            Assert.Contains(rejected, r => r.GetProperty("field").GetString()!.StartsWith(c.Field, StringComparison.Ordinal));
            return;
        }

        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(c.Status, body.RootElement.GetProperty("status").GetInt32());
        Assert.True(body.RootElement.TryGetProperty("field", out var field), $"{c.Name}: no field in {text}");
        Assert.True(field.GetString()!.StartsWith(c.Field, StringComparison.Ordinal), $"{c.Name}: field '{field.GetString()}', expected '{c.Field}': {text}");
        Assert.False(string.IsNullOrWhiteSpace(body.RootElement.GetProperty("detail").GetString()), $"{c.Name}: no detail");
    }

    /// <summary>The tenant the fixture created (its token's tenant_id).</summary>
    private static string TenantOf(HostileApiFixture f)
    {
        var token = f.Tenant.DefaultRequestHeaders.Authorization!.Parameter!;
        var payload = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        using var claims = JsonDocument.Parse(Convert.FromBase64String(payload));
        return claims.RootElement.GetProperty("tenant_id").GetString()!;
    }

    [Fact]
    public void The_suite_holds_at_least_150_cases_over_every_endpoint_group() =>
        Assert.True(Cases().Count >= 150, $"{Cases().Count} cases");
}
