using System.Diagnostics;
using System.Net;
using System.Text.Json;
using PricingOptimizer.Tests.Fixtures;
using Xunit.Abstractions;

namespace PricingOptimizer.Tests.ControlPlane;

/// <summary>
/// The API on a PostgreSQL control plane that is stopped, then frozen (SIGSTOP), under load: what needs the store
/// answers 503 with Retry-After naming the control plane, ingest goes on in its degraded mode (last-known plan and
/// definitions), readiness answers at once, nothing hangs, and every event answered 202 is in the lake afterwards.
/// Each test has a server of its own. Requests carry a client timeout, so a hang fails the test instead of stalling it.
/// </summary>
public sealed class ControlPlaneOutageTests(ITestOutputHelper output) : IDisposable
{
    private const string AdminKey = "outage-admin";
    private readonly PostgresServer server = PostgresServer.StartPrivate();
    private int eventNumber;

    public void Dispose()
    {
        server.Thaw();
        server.Dispose();
    }

    private IngestApiFactory Api() => new(new Dictionary<string, string?>
    {
        ["Storage:ControlPlane"] = server.CreateDatabase(productTimeouts: true),
        ["Auth:AdminKey"] = AdminKey,
    });

    /// <summary>A tenant with a started experiment that has served assigns and taken events while the store was up.</summary>
    private async Task<(string TenantId, HttpClient Client, List<string> Accepted)> WarmTenantAsync(IngestApiFactory api)
    {
        var (tenantId, _, client) = await api.CreateTenantAsync(AdminKey, "Outage", "pro");
        client.Timeout = TimeSpan.FromSeconds(8);
        await IngestApiFactory.CreateTestExperimentAsync(client, start: true);
        Assert.Equal(HttpStatusCode.OK, (await Assign(client, "warm-user")).StatusCode);
        var accepted = new List<string>();
        Assert.Equal(HttpStatusCode.Accepted, (await SendEvents(client, accepted)).StatusCode);
        return (tenantId, client, accepted);
    }

    private static Task<HttpResponseMessage> Assign(HttpClient client, string user) =>
        client.PostAsync("/v1/assign", IngestApiFactory.Json($$"""{"experiment_id":"exp-1","user_id":"{{user}}"}"""));

    /// <summary>Ten valid events of the test experiment; their ids join <paramref name="accepted"/> when the answer is 202.</summary>
    private async Task<HttpResponseMessage> SendEvents(HttpClient client, List<string> accepted)
    {
        var events = Enumerable.Range(0, 10).Select(_ => TestEvents.Assign(Interlocked.Increment(ref eventNumber), DateTimeOffset.UtcNow)).ToList();
        var response = await client.PostAsync("/v1/events", IngestApiFactory.Json(events));
        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            accepted.AddRange(events.Select(e => e.EventId));
        }

        return response;
    }

    private static async Task AssertControlPlaneUnavailableAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "no Retry-After");
        using var problem = JsonDocument.Parse(text);
        Assert.Equal("control_plane", problem.RootElement.GetProperty("unavailable").GetString());
        Assert.Contains("control plane", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    /// <summary>Polls <paramref name="path"/> until the store answers again (at most 20 s: a reconnect, not a test of speed).</summary>
    private static async Task AssertBackAsync(HttpClient client, string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        HttpResponseMessage again;
        do
        {
            await Task.Delay(200);
            again = await client.GetAsync(path);
        }
        while (again.StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    private async Task<HttpResponseMessage> Timed(string what, Func<Task<HttpResponseMessage>> call)
    {
        var clock = Stopwatch.StartNew();
        var response = await call();
        output.WriteLine($"{what}: {(int)response.StatusCode} in {clock.Elapsed.TotalSeconds:F2} s");
        return response;
    }

    [Fact]
    public async Task With_the_database_stopped_ingest_goes_on_what_needs_the_store_is_503_and_nothing_acknowledged_is_lost()
    {
        using var api = Api();
        var (tenantId, client, accepted) = await WarmTenantAsync(api);
        using var anonymous = api.CreateClient();
        anonymous.Timeout = TimeSpan.FromSeconds(4);

        server.Stop();

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await Timed("events", () => SendEvents(client, accepted))).StatusCode);
        }

        // The running experiment's last-known definition keeps assigning (the same user keeps the same variant).
        Assert.Equal(HttpStatusCode.OK, (await Timed("assign", () => Assign(client, "warm-user"))).StatusCode);
        await AssertControlPlaneUnavailableAsync(await Timed("GET experiments", () => client.GetAsync("/v1/experiments")));
        await AssertControlPlaneUnavailableAsync(await Timed("create", () => client.PostAsync("/v1/experiments", IngestApiFactory.Json(
            """{"experiment_id":"exp-2","name":"n","currency":"USD","variants":[{"variant_id":"a","price":1,"control":true},{"variant_id":"b","price":2}]}"""))));
        var readyWithToken = await Timed("readyz (token)", () => client.GetAsync("/readyz"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyWithToken.StatusCode);
        Assert.Contains("control plane", await readyWithToken.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Timed("readyz", () => anonymous.GetAsync("/readyz"))).StatusCode);

        server.Restart();

        // Back: the store answers again, and every acknowledged event is in the lake once.
        await AssertBackAsync(client, "/v1/experiments");
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/readyz")).StatusCode);
        var landed = await api.LandUntilAsync(tenantId, accepted.Count + 1);
        Assert.Equal(accepted.Count + 1, landed); // the events and the warm assign
    }

    [Fact]
    public async Task With_the_database_frozen_readiness_answers_at_once_nothing_hangs_and_ingest_goes_on()
    {
        using var api = Api();
        var (tenantId, client, accepted) = await WarmTenantAsync(api);
        using var anonymous = api.CreateClient();
        anonymous.Timeout = TimeSpan.FromSeconds(4);

        server.Freeze();
        try
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Timed("readyz", () => anonymous.GetAsync("/readyz"))).StatusCode);
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(HttpStatusCode.Accepted, (await Timed("events", () => SendEvents(client, accepted))).StatusCode);
            }

            Assert.Equal(HttpStatusCode.OK, (await Timed("assign", () => Assign(client, "warm-user"))).StatusCode);
            await AssertControlPlaneUnavailableAsync(await Timed("GET experiment", () => client.GetAsync("/v1/experiments/exp-1")));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Timed("readyz (token)", () => client.GetAsync("/readyz"))).StatusCode);
        }
        finally
        {
            server.Thaw();
        }

        await AssertBackAsync(client, "/v1/experiments/exp-1");
        Assert.Equal(accepted.Count + 1, await api.LandUntilAsync(tenantId, accepted.Count + 1));
    }
}
