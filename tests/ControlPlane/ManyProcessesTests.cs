using Microsoft.Extensions.Time.Testing;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.ControlPlane.Postgres;
using PricingOptimizer.Tests.Fixtures;
using Xunit.Abstractions;

namespace PricingOptimizer.Tests.ControlPlane;

/// <summary>
/// Two API instances on one PostgreSQL control plane, as two processes would be: one rate-limit budget per tenant,
/// and changes made through one seen by the other through NOTIFY. Both run on frozen clocks, so no cache can expire
/// by time: what the second instance learns, it learns from the first's notification.
/// </summary>
public sealed class ManyProcessesTests(ITestOutputHelper output) : IDisposable
{
    private const string Admin = "many-admin";
    private static readonly DateTimeOffset Frozen = new(2026, 11, 26, 12, 0, 10, TimeSpan.Zero);
    private readonly IngestApiFactory first = new(ControlPlaneStores.With(ControlPlaneKind.Postgres, new Dictionary<string,
        string?> { ["Auth:AdminKey"] = Admin }));
    private IngestApiFactory? second;

    private async Task<(WebApplicationFactory<Program> A, WebApplicationFactory<Program> B)> InstancesAsync()
    {
        second = new IngestApiFactory(new Dictionary<string, string?>
        {
            ["Auth:AdminKey"] = Admin,
            ["Storage:ControlPlane"] = first.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()["Storage:ControlPlane"],
        });
        var a = first.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<TimeProvider>(new FakeTimeProvider(Frozen))));
        var b = second.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<TimeProvider>(new FakeTimeProvider(Frozen))));
        foreach (var instance in new[] { a, b })
        {
            await instance.Services.GetRequiredService<PostgresChangeListener>().Listening;
        }

        return (a, b);
    }

    private async Task<(string TenantId, HttpClient A, HttpClient B)> TenantAsync(WebApplicationFactory<Program> a, WebApplicationFactory<Program> b,
        string plan)
    {
        var admin = a.CreateClient();
        admin.DefaultRequestHeaders.Add("X-Admin-Key", Admin);
        var created = await admin.PostAsJsonAsync("/v1/admin/tenants", new { name = "Shop", plan });
        created.EnsureSuccessStatusCode();
        var tenantId = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("tenant_id").GetString()!;
        var token = first.TokenFor(tenantId, plan);
        HttpClient For(WebApplicationFactory<Program> instance)
        {
            var client = instance.CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return client;
        }

        return (tenantId, For(a), For(b));
    }

    [Fact]
    public async Task A_free_tenants_61st_request_in_a_minute_is_refused_whichever_instance_it_reaches()
    {
        var (a, b) = await InstancesAsync();
        var (_, onA, onB) = await TenantAsync(a, b, "free");
        for (var i = 0; i < 60; i++)
        {
            var response = await (i % 2 == 0 ? onA : onB).GetAsync("/v1/experiments");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"request {i + 1}: {(int)response.StatusCode}");
        }

        // 30 went to each: a per-process budget would let both go on to 60.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await onA.GetAsync("/v1/experiments")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await onB.GetAsync("/v1/experiments")).StatusCode);
    }

    [Fact]
    public async Task A_pause_and_a_plan_change_through_one_instance_reach_the_other_by_notification()
    {
        var (a, b) = await InstancesAsync();
        var (tenantId, onA, onB) = await TenantAsync(a, b, "free");
        var experiment = """{"experiment_id":"checkout","name":"n","currency":"EUR","variants":[{"variant_id":"a","price":10,"control":true},{"variant_id":"b","price":12}]}""";
        (await onA.PostAsync("/v1/experiments", IngestApiFactory.Json(experiment))).EnsureSuccessStatusCode();
        (await onA.PostAsync("/v1/experiments/checkout/start", null)).EnsureSuccessStatusCode();
        // B assigns, and so caches the active experiment and the free plan (its clock never moves: the copies never expire).
        Assert.Equal(HttpStatusCode.OK, (await onB.PostAsJsonAsync("/v1/assign", new { experiment_id = "checkout", user_id = "u1" })).StatusCode);
        Assert.Equal("60", (await onB.GetAsync("/v1/experiments")).Headers.GetValues("X-RateLimit-Limit").Single());

        var clock = Stopwatch.StartNew();
        (await onA.PostAsync("/v1/experiments/checkout/pause", null)).EnsureSuccessStatusCode();
        var refused = await UntilAsync(async () => (await onB.PostAsJsonAsync("/v1/assign",
            new { experiment_id = "checkout", user_id = "u2" })).StatusCode == HttpStatusCode.Conflict);
        output.WriteLine($"pause seen by the other instance after {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(refused, "the other instance went on assigning the paused experiment");

        var admin = a.CreateClient();
        admin.DefaultRequestHeaders.Add("X-Admin-Key", Admin);
        clock.Restart();
        (await admin.PatchAsJsonAsync($"/v1/admin/tenants/{tenantId}", new { plan = "pro" })).EnsureSuccessStatusCode();
        var raised = await UntilAsync(async () => (await onB.GetAsync("/v1/experiments")).Headers.GetValues("X-RateLimit-Limit").Single() == "1000");
        output.WriteLine($"plan change seen by the other instance after {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(raised, "the other instance kept the old plan's limit");
    }

    /// <summary>Asks until <paramref name="condition"/> holds; gives up after 10 s of real time (a hang guard, not the figure under test).</summary>
    private static async Task<bool> UntilAsync(Func<Task<bool>> condition)
    {
        var guard = Stopwatch.StartNew();
        while (guard.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (await condition())
            {
                return true;
            }

            await Task.Yield();
        }

        return false;
    }

    public void Dispose()
    {
        second?.Dispose();
        first.Dispose();
    }
}
