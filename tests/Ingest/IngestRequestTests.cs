using Microsoft.Extensions.Time.Testing;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using PricingOptimizer.Events;
using PricingOptimizer.Tenancy;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Ingest;

/// <summary>Bad requests get a clear problem+json answer, never a 500; bad tokens get 401.</summary>
public sealed class IngestRequestTests(IngestRequestTests.ApiFixture fixture) : IClassFixture<IngestRequestTests.ApiFixture>
{
    public sealed class ApiFixture : IDisposable
    {
        public IngestApiFactory Api { get; } = new();

        public void Dispose() => Api.Dispose();
    }

    private IngestApiFactory Api => fixture.Api;

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task Wrong_content_type_is_415()
    {
        using var client = Api.ClientFor("t1");
        var content = new StringContent("{\"events\":[]}", new MediaTypeHeaderValue("text/plain"));
        var problem = await ProblemAsync(await client.PostAsync("/v1/events", content), HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("application/json", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_json_is_400_saying_where()
    {
        using var client = Api.ClientFor("t1");
        var problem = await ProblemAsync(await client.PostAsync("/v1/events", IngestApiFactory.Json("{\"events\": [ {\"event_id\": ")),
            HttpStatusCode.BadRequest);
        Assert.Equal("Malformed JSON", problem.GetProperty("title").GetString());
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"events\": {}}")]
    [InlineData("{\"events\": []}")]
    public async Task A_body_without_events_is_400_naming_the_field(string body)
    {
        using var client = Api.ClientFor("t1");
        var problem = await ProblemAsync(await client.PostAsync("/v1/events", IngestApiFactory.Json(body)), HttpStatusCode.BadRequest);
        Assert.Equal("events", problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task More_than_1000_events_is_413()
    {
        using var client = Api.ClientFor("t1");
        var events = TestEvents.Mixed(1001, DateTimeOffset.UtcNow).Where(e => e.Type == EventType.Assign).Take(1001).ToList();
        Assert.Equal(1001, events.Count);
        var problem = await ProblemAsync(await client.PostAsync("/v1/events", IngestApiFactory.Json(events)), HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("at most 1000", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_1_MiB_is_413()
    {
        using var client = Api.ClientFor("t1");
        var padding = new string('x', (1 << 20) + 10);
        var body = $"{{\"events\":[],\"padding\":\"{padding}\"}}";
        await ProblemAsync(await client.PostAsync("/v1/events", IngestApiFactory.Json(body)), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task All_invalid_is_400_with_each_rejection()
    {
        using var client = Api.ClientFor("t1");
        var problem = await ProblemAsync(await client.PostAsync("/v1/events",
            IngestApiFactory.Json("""{"events":[{"type":"assign"}, 5]}""")), HttpStatusCode.BadRequest);
        var rejected = problem.GetProperty("rejected").EnumerateArray().ToList();
        Assert.Contains(rejected, r => r.GetProperty("index").GetInt32() == 0 && r.GetProperty("field").GetString() == "event_id");
        Assert.Contains(rejected, r => r.GetProperty("index").GetInt32() == 1 && r.GetProperty("field").GetString() == "event");
    }

    [Fact]
    public async Task A_partly_invalid_batch_is_202_with_the_rejected_indexes()
    {
        using var client = Api.ClientFor("t1");
        var good = EventsJsonArray(TestEvents.Mixed(3, DateTimeOffset.UtcNow));
        var body = $$"""{"events":[{{good[0]}}, {"event_id":"x","type":"assign","experiment_id":"e","variant_id":"v","user_id":"u","price":-5,"currency":"USD","occurred_at":"{{DateTimeOffset.UtcNow:O}}"}, {{good[1]}}]}""";
        var response = await client.PostAsync("/v1/events", IngestApiFactory.Json(body));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(2, document.RootElement.GetProperty("accepted").GetInt32());
        var rejection = Assert.Single(document.RootElement.GetProperty("rejected").EnumerateArray());
        Assert.Equal(1, rejection.GetProperty("index").GetInt32());
        Assert.Equal("price", rejection.GetProperty("field").GetString());
        Assert.Equal("must be >= 0", rejection.GetProperty("reason").GetString());
    }

    private static List<string> EventsJsonArray(IReadOnlyList<PricingEvent> events)
    {
        using var document = JsonDocument.Parse(EventJson.SerializeBatch(events));
        return document.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetRawText()).ToList();
    }

    [Fact]
    public async Task A_request_without_a_token_is_401()
    {
        using var client = Api.CreateClient();
        var response = await client.PostAsync("/v1/events", IngestApiFactory.Json(TestEvents.Mixed(1, DateTimeOffset.UtcNow)));
        var problem = await ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Contains("Bearer", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    public static TheoryData<string, string> BadTokens => new()
    {
        { "expired", "expired" },
        { "forged", "signature" },
        { "wrong-audience", "audience" },
        { "garbage", "not valid" },
        { "no-tenant", "tenant_id" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task Expired_forged_or_foreign_tokens_are_401(string kind, string detail)
    {
        var options = new AuthOptions { SigningKey = IngestApiFactory.SigningKey };
        var token = kind switch
        {
            "expired" => new TokenIssuer(options, new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(-2))).Issue("t1", "pro", TimeSpan.FromHours(1)),
            "forged" => new TokenIssuer(new AuthOptions { SigningKey = System.Convert.ToBase64String(new byte[32]) }, TimeProvider.System).Issue("t1", "pro"),
            "wrong-audience" => new TokenIssuer(new AuthOptions { SigningKey = IngestApiFactory.SigningKey, Audience = "someone-else" },
                TimeProvider.System).Issue("t1", "pro"),
            "no-tenant" => TokenWithoutTenant(options),
            _ => "not.a.token",
        };
        using var client = Api.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await client.PostAsync("/v1/events", IngestApiFactory.Json(TestEvents.Mixed(1, DateTimeOffset.UtcNow)));
        var problem = await ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static string TokenWithoutTenant(AuthOptions options)
    {
        var key = new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(options.SigningKeyBytes());
        return new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            Expires = DateTime.UtcNow.AddHours(1),
            Claims = new Dictionary<string, object> { ["sub"] = "nobody" },
            SigningCredentials = new(key, Microsoft.IdentityModel.Tokens.SecurityAlgorithms.HmacSha256),
        });
    }

    [Fact]
    public async Task Health_and_readiness_answer_without_a_token()
    {
        using var client = Api.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("embedded", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_path_is_a_problem_not_an_empty_page()
    {
        using var client = Api.CreateClient();
        await ProblemAsync(await client.GetAsync("/v1/nothing-here"), HttpStatusCode.NotFound);
    }
}
