using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Tenancy;

/// <summary>Admin creates tenants; tenants exchange keys for tokens, rotate and revoke keys.</summary>
public abstract class TenantsAndKeysTests(ControlPlaneKind store) : IDisposable
{
    private const string AdminKey = "test-admin-key-0123456789";
    private readonly IngestApiFactory api = new(ControlPlaneStores.With(store, new Dictionary<string, string?> { ["Auth:AdminKey"] = AdminKey }));

    private HttpClient Admin()
    {
        var client = api.CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);
        return client;
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<(string TenantId, string ApiKey)> CreateTenantAsync(string name, string plan)
    {
        using var admin = Admin();
        var created = await JsonAsync(await admin.PostAsJsonAsync("/v1/admin/tenants", new { name, plan }), HttpStatusCode.Created);
        return (created.GetProperty("tenant_id").GetString()!, created.GetProperty("api_key").GetString()!);
    }

    private async Task<HttpResponseMessage> ExchangeAsync(string key)
    {
        using var client = api.CreateClient();
        return await client.PostAsJsonAsync("/v1/auth/token", new { api_key = key });
    }

    [Fact]
    public async Task A_new_tenants_key_buys_a_token_that_carries_tenant_and_plan_and_ingests()
    {
        var (tenantId, key) = await CreateTenantAsync("Acme", "starter");
        Assert.StartsWith("tn_", tenantId, StringComparison.Ordinal);
        var token = await JsonAsync(await ExchangeAsync(key), HttpStatusCode.OK);
        Assert.Equal("Bearer", token.GetProperty("token_type").GetString());
        Assert.Equal(24 * 3600, token.GetProperty("expires_in").GetInt32());
        Assert.Equal("starter", token.GetProperty("plan").GetString());

        using var client = api.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.GetProperty("access_token").GetString());
        await IngestApiFactory.CreateTestExperimentAsync(client);
        var response = await client.PostAsync("/v1/events", IngestApiFactory.Json(TestEvents.Mixed(3, DateTimeOffset.UtcNow)));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(4, await api.LandUntilAsync(tenantId, 4));
    }

    [Fact]
    public async Task Keys_are_listed_by_prefix_rotate_and_a_revoked_key_gets_no_token()
    {
        var (tenantId, first) = await CreateTenantAsync("Globex", "pro");
        using var client = api.ClientFor(tenantId);
        var second = await JsonAsync(await client.PostAsync("/v1/api-keys", null), HttpStatusCode.Created);
        var secondKey = second.GetProperty("api_key").GetString()!;

        var listed = await JsonAsync(await client.GetAsync("/v1/api-keys"), HttpStatusCode.OK);
        var prefixes = listed.EnumerateArray().Select(k => k.GetProperty("prefix").GetString()!).ToList();
        Assert.Equal([first[..12], secondKey[..12]], prefixes);
        Assert.DoesNotContain(first, listed.GetRawText(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await ExchangeAsync(first)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ExchangeAsync(secondKey)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/v1/api-keys/{first[..12]}")).StatusCode);
        var refused = await ExchangeAsync(first);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("revoked", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await ExchangeAsync(secondKey)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/v1/api-keys/{first[..12]}")).StatusCode);
    }

    [Fact]
    public async Task A_plan_change_shows_in_the_next_token()
    {
        var (tenantId, key) = await CreateTenantAsync("Initech", "free");
        using var admin = Admin();
        var changed = await JsonAsync(await admin.PatchAsJsonAsync($"/v1/admin/tenants/{tenantId}", new { plan = "enterprise" }), HttpStatusCode.OK);
        Assert.Equal("enterprise", changed.GetProperty("plan").GetString());
        Assert.Equal("enterprise", (await JsonAsync(await ExchangeAsync(key), HttpStatusCode.OK)).GetProperty("plan").GetString());

        var tenants = await JsonAsync(await admin.GetAsync("/v1/admin/tenants"), HttpStatusCode.OK);
        Assert.Contains(tenants.EnumerateArray(), t => t.GetProperty("tenant_id").GetString() == tenantId);
    }

    [Theory]
    [InlineData("{\"name\":\"x\",\"plan\":\"platinum\"}", "plan")]
    [InlineData("{\"plan\":\"free\"}", "name")]
    public async Task A_bad_tenant_request_names_the_field(string body, string field)
    {
        using var admin = Admin();
        var response = await admin.PostAsync("/v1/admin/tenants", IngestApiFactory.Json(body));
        var problem = await JsonAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(field, problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Admin_endpoints_need_the_admin_key_and_are_off_without_one()
    {
        using var anonymous = api.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/admin/tenants")).StatusCode);
        using var tenant = api.ClientFor("some-tenant");
        Assert.Equal(HttpStatusCode.Unauthorized, (await tenant.GetAsync("/v1/admin/tenants")).StatusCode);

        using var off = new IngestApiFactory();
        using var client = off.CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);
        var response = await client.GetAsync("/v1/admin/tenants");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Auth:AdminKey", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-key")]
    [InlineData("po_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task A_bad_key_is_401(string key)
    {
        var response = await ExchangeAsync(key);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    public void Dispose() => api.Dispose();
}

public sealed class TenantsAndKeysTestsOnSqlite() : TenantsAndKeysTests(ControlPlaneKind.Sqlite);

public sealed class TenantsAndKeysTestsOnPostgres() : TenantsAndKeysTests(ControlPlaneKind.Postgres);
