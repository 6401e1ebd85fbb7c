using System.Net;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Tenancy;

public abstract class RateLimitTests(ControlPlaneKind store) : IDisposable
{
    private const string AdminKey = "rate-limit-admin-key";
    private readonly IngestApiFactory api = new(ControlPlaneStores.With(store, new Dictionary<string, string?> { ["Auth:AdminKey"] = AdminKey }));

    private async Task<HttpClient> TenantClientAsync(string plan) => (await api.CreateTenantAsync(AdminKey, plan + " co", plan)).Client;

    [Fact]
    public async Task In_the_same_minute_a_free_tenants_61st_request_gets_429_while_a_pro_tenants_does_not()
    {
        using var free = await TenantClientAsync("free");
        using var pro = await TenantClientAsync("pro");
        for (var i = 1; i <= 60; i++)
        {
            var ok = await free.GetAsync("/v1/experiments");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("60", ok.Headers.GetValues("X-RateLimit-Limit").Single());
            Assert.Equal((60 - i).ToString(System.Globalization.CultureInfo.InvariantCulture), ok.Headers.GetValues("X-RateLimit-Remaining").Single());
        }

        var limited = await free.GetAsync("/v1/experiments");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        Assert.Equal("0", limited.Headers.GetValues("X-RateLimit-Remaining").Single());

        for (var i = 1; i <= 61; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await pro.GetAsync("/v1/experiments")).StatusCode);
        }

        var proResponse = await pro.GetAsync("/v1/api-keys");
        Assert.Equal(HttpStatusCode.OK, proResponse.StatusCode);
        Assert.Equal("1000", proResponse.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("938", proResponse.Headers.GetValues("X-RateLimit-Remaining").Single());
    }

    [Fact]
    public async Task Health_checks_are_never_limited()
    {
        using var client = api.CreateClient();
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        }
    }

    public void Dispose() => api.Dispose();
}

public sealed class RateLimitTestsOnSqlite() : RateLimitTests(ControlPlaneKind.Sqlite);

public sealed class RateLimitTestsOnPostgres() : RateLimitTests(ControlPlaneKind.Postgres);
