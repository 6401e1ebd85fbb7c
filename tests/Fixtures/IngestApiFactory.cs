using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Tests.Fixtures;

/// <summary>The real ingest API in the test process, on its own data folder, with the given settings.</summary>
public sealed class IngestApiFactory : WebApplicationFactory<Program>
{
    private readonly TempDirectory? ownData;
    private readonly Dictionary<string, string?> settings;

    /// <summary>An API on <paramref name="dataDirectory"/> (kept), or on a fresh folder removed with the factory.</summary>
    public IngestApiFactory(IDictionary<string, string?>? settings = null, string? dataDirectory = null)
    {
        if (dataDirectory is null)
        {
            ownData = new TempDirectory();
        }

        DataDirectory = dataDirectory ?? ownData!.Path;
        this.settings = new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = DataDirectory,
            ["Auth:SigningKey"] = SigningKey,
            ["Lander:HostInApi"] = "false",
            ["Billing:HostInApi"] = "false",
            ["Lander:FlushIntervalMs"] = "200",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            this.settings[key] = value;
        }
    }

    public const string SigningKey = "dGVzdC1zaWduaW5nLWtleS10aGF0LWlzLWF0LWxlYXN0LTMyLWJ5dGVzLWxvbmc=";

    public string DataDirectory { get; }

    /// <summary>Every log line the API wrote, with exception texts.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.AddProvider(new CapturingLoggerProvider(Logs)));
    }

    public string TokenFor(string tenantId, string plan = "pro") => Services.GetRequiredService<TokenIssuer>().Issue(tenantId, plan);

    public HttpClient ClientFor(string tenantId)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TokenFor(tenantId));
        return client;
    }

    /// <summary>Creates a tenant through the admin API (needs Auth:AdminKey = <paramref name="adminKey"/>) and a client with its token.</summary>
    public async Task<(string TenantId, string ApiKey, HttpClient Client)> CreateTenantAsync(string adminKey, string name, string plan)
    {
        using var admin = CreateClient();
        admin.DefaultRequestHeaders.Add("X-Admin-Key", adminKey);
        var created = await admin.PostAsync("/v1/admin/tenants", Json(System.Text.Json.JsonSerializer.Serialize(new { name, plan })));
        using var body = System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        if (created.StatusCode != System.Net.HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"creating a tenant answered {(int)created.StatusCode}: {body.RootElement}");
        }

        var tenantId = body.RootElement.GetProperty("tenant_id").GetString()!;
        using var anonymous = CreateClient();
        var token = await anonymous.PostAsync("/v1/auth/token",
            Json(System.Text.Json.JsonSerializer.Serialize(new { api_key = body.RootElement.GetProperty("api_key").GetString() })));
        using var tokenBody = System.Text.Json.JsonDocument.Parse(await token.Content.ReadAsStringAsync());
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokenBody.RootElement.GetProperty("access_token").GetString());
        return (tenantId, body.RootElement.GetProperty("api_key").GetString()!, client);
    }

    /// <summary>Creates (and starts) the experiment <see cref="TestEvents"/> uses: variants control and charm, in USD.</summary>
    public static async Task CreateTestExperimentAsync(HttpClient client, string experimentId = "exp-1", bool start = false)
    {
        var body = $$"""{"experiment_id":"{{experimentId}}","name":"test","currency":"USD","variants":[{"variant_id":"control","price":9.99,"control":true},{"variant_id":"charm","price":8.99}]}""";
        var created = await client.PostAsync("/v1/experiments", Json(body));
        if (created.StatusCode != System.Net.HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"creating {experimentId} answered {(int)created.StatusCode}: {await created.Content.ReadAsStringAsync()}");
        }

        if (start)
        {
            (await client.PostAsync($"/v1/experiments/{experimentId}/start", null)).EnsureSuccessStatusCode();
        }
    }

    public static HttpContent Json(IReadOnlyList<PricingEvent> events) => Json(EventJson.SerializeBatch(events));

    public static HttpContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    public static HttpContent Json(string body) => Json(System.Text.Encoding.UTF8.GetBytes(body));

    /// <summary>The answer's JSON, after checking its status (the body is in the failure message); default for an empty body.</summary>
    public static async Task<System.Text.Json.JsonElement> ReadJsonAsync(HttpResponseMessage response, System.Net.HttpStatusCode expected = System.Net.HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : System.Text.Json.JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Runs the lander until <paramref name="tenantId"/> has <paramref name="expected"/> distinct events in the lake, or 60 s pass.</summary>
    public async Task<long> LandUntilAsync(string tenantId, long expected)
    {
        var lander = Services.GetRequiredService<Lander>();
        var queries = Services.GetRequiredService<LakeQueries>();
        using var consumer = Services.GetRequiredService<EventLog.IEventLog>().OpenConsumer("test-lander");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        long count = 0;
        while (DateTime.UtcNow < deadline)
        {
            await lander.LandBatchAsync(consumer, CancellationToken.None);
            count = (await queries.CountByTenantAsync(CancellationToken.None)).FirstOrDefault(c => c.TenantId == tenantId)?.Events ?? 0;
            if (count >= expected)
            {
                break;
            }
        }

        return count;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            ownData?.Dispose();
        }
    }
}
