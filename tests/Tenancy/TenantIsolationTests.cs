using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.Lake;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Tenancy;

/// <summary>Tenant A's token can neither see nor touch anything of tenant B: B's things answer 404, as if absent.</summary>
public abstract class TenantIsolationTests(ControlPlaneKind store) : IAsyncLifetime, IDisposable
{
    private const string AdminKey = "isolation-admin";
    private readonly IngestApiFactory api = new(ControlPlaneStores.With(store, new Dictionary<string, string?>
    {
        ["Auth:AdminKey"] = AdminKey,
        ["KeyManager:MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
    }));

    private HttpClient a = null!;
    private HttpClient b = null!;
    private string tenantA = "";
    private string tenantB = "";
    private string keyPrefixB = "";
    private readonly int eventsOfB = 12;

    public async Task InitializeAsync()
    {
        (tenantA, _, a) = await api.CreateTenantAsync(AdminKey, "Tenant A", "pro");
        string keyB;
        (tenantB, keyB, b) = await api.CreateTenantAsync(AdminKey, "Tenant B", "pro");
        keyPrefixB = keyB[..12];
        var experiment = new
        {
            experiment_id = "secret-exp", name = "B's test", currency = "USD",
            variants = new object[] { new { variant_id = "control", price = 10m, control = true }, new { variant_id = "charm", price = 8m } },
        };
        Assert.Equal(HttpStatusCode.Created, (await b.PostAsJsonAsync("/v1/experiments", experiment)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await b.PostAsync("/v1/experiments/secret-exp/start", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await b.PutAsJsonAsync("/v1/provider-keys/stripe", new { key = "sk_test_tenant_b_secret" })).StatusCode);
        var events = TestEvents.Mixed(9, DateTimeOffset.UtcNow, "secret-exp");
        Assert.Equal(eventsOfB, events.Count);
        Assert.Equal(HttpStatusCode.Accepted, (await b.PostAsync("/v1/events", IngestApiFactory.Json(events))).StatusCode);
        Assert.Equal(eventsOfB, await api.LandUntilAsync(tenantB, eventsOfB));
    }

    public static TheoryData<string, string, string?> ForeignResources => new()
    {
        { "GET", "/v1/experiments/secret-exp", null },
        { "PUT", "/v1/experiments/secret-exp", """{"name":"mine now"}""" },
        { "DELETE", "/v1/experiments/secret-exp", null },
        { "POST", "/v1/experiments/secret-exp/pause", null },
        { "POST", "/v1/experiments/secret-exp/complete", null },
        { "POST", "/v1/assign", """{"experiment_id":"secret-exp","user_id":"u1"}""" },
        { "POST", "/v1/convert", """{"experiment_id":"secret-exp","user_id":"u1","event_id":"steal-1"}""" },
        { "DELETE", "/v1/api-keys/{keyB}", null },
        { "DELETE", "/v1/provider-keys/stripe", null },
    };

    [Theory]
    [MemberData(nameof(ForeignResources))]
    public async Task Tenant_a_gets_404_for_tenant_bs_resources(string method, string path, string? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{keyB}", keyPrefixB, StringComparison.Ordinal));
        if (body is not null)
        {
            request.Content = IngestApiFactory.Json(body);
        }

        var response = await a.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        // And B's things are untouched.
        var experiment = JsonDocument.Parse(await (await b.GetAsync("/v1/experiments/secret-exp")).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("active", experiment.GetProperty("status").GetString());
        Assert.Equal("B's test", experiment.GetProperty("name").GetString());
        Assert.Contains(keyPrefixB, await (await b.GetAsync("/v1/api-keys")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("stripe", await (await b.GetAsync("/v1/provider-keys")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tenant_a_sees_only_its_own_lists_usage_and_bill()
    {
        Assert.DoesNotContain("secret-exp", await (await a.GetAsync("/v1/experiments")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(keyPrefixB, await (await a.GetAsync("/v1/api-keys")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("[]", await (await a.GetAsync("/v1/provider-keys")).Content.ReadAsStringAsync());
        var month = DateTimeOffset.UtcNow.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
        var usage = JsonDocument.Parse(await (await a.GetAsync($"/v1/usage?month={month}")).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(tenantA, usage.GetProperty("tenant_id").GetString());
        Assert.Equal(0, usage.GetProperty("events").GetInt64());
        var bill = JsonDocument.Parse(await (await a.GetAsync($"/v1/billing/{month}")).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(0, bill.GetProperty("events").GetInt64());
    }

    [Fact]
    public async Task Tenant_a_cannot_write_into_tenant_bs_lake_partition()
    {
        var intoB = $$"""{"events":[{"tenant_id":"{{tenantB}}","event_id":"forged-0","type":"assign","experiment_id":"secret-exp","variant_id":"control","user_id":"x","price":1,"currency":"USD","occurred_at":"{{DateTimeOffset.UtcNow:O}}"}]}""";
        var rejected = await a.PostAsync("/v1/events", IngestApiFactory.Json(intoB));
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode); // A has no experiment 'secret-exp'
        Assert.Contains("experiment_id", await rejected.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await IngestApiFactory.CreateTestExperimentAsync(a, "exp-a");
        var forged = $$"""{"events":[{"tenant_id":"{{tenantB}}","event_id":"forged-1","type":"assign","experiment_id":"exp-a","variant_id":"control","user_id":"x","price":1,"currency":"USD","occurred_at":"{{DateTimeOffset.UtcNow:O}}"}]}""";
        Assert.Equal(HttpStatusCode.Accepted, (await a.PostAsync("/v1/events", IngestApiFactory.Json(forged))).StatusCode);
        Assert.Equal(1, await api.LandUntilAsync(tenantA, 1));
        var queries = api.Services.GetRequiredService<LakeQueries>();
        var ofB = await queries.ReadEventsAsync(tenantB, null, CancellationToken.None);
        Assert.Equal(eventsOfB, ofB.Count);
        Assert.DoesNotContain(ofB, e => e.Event.EventId == "forged-1");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        a?.Dispose();
        b?.Dispose();
        api.Dispose();
    }
}

public sealed class TenantIsolationTestsOnSqlite() : TenantIsolationTests(ControlPlaneKind.Sqlite);

public sealed class TenantIsolationTestsOnPostgres() : TenantIsolationTests(ControlPlaneKind.Postgres);
