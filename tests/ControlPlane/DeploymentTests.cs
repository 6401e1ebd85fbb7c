using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using PricingOptimizer.Experiments;
using PricingOptimizer.Lake;
using PricingOptimizer.Tests.Fixtures;
using Xunit.Abstractions;

namespace PricingOptimizer.Tests.ControlPlane;

/// <summary>
/// The multi-machine deployment as real processes: two API processes and <c>po land</c>, each its own OS process, on
/// one Kafka (librdkafka's mock cluster, reached over TCP) and one PostgreSQL control plane, sharing a lake.
/// </summary>
public sealed class DeploymentTests(KafkaMockFixture kafka, ITestOutputHelper output) : IClassFixture<KafkaMockFixture>, IDisposable
{
    private const string AdminKey = "deployment-admin-key";
    private readonly TempDirectory temp = new();
    private readonly List<ServiceProcess> processes = [];

    private LakeLayout Lake => new(Path.Combine(temp.Path, "lake"));

    public void Dispose()
    {
        foreach (var process in processes)
        {
            process.Dispose();
        }

        temp.Dispose();
    }

    private Dictionary<string, string> Environment(string topic, string controlPlane, string name) => new()
    {
        ["Kafka__BootstrapServers"] = kafka.BootstrapServers,
        ["Kafka__Topic"] = topic,
        ["Kafka__SessionTimeoutMs"] = "6000",
        ["Storage__ControlPlane"] = controlPlane,
        ["Storage__DataDirectory"] = Path.Combine(temp.Path, name),
        ["Storage__LakeDirectory"] = Lake.Root,
        ["Auth__SigningKey"] = IngestApiFactory.SigningKey,
        ["Auth__AdminKey"] = AdminKey,
        ["Logging__LogLevel__Default"] = "Warning",
    };

    private static async Task<HttpClient> TenantClientAsync(Uri api, string apiKey)
    {
        var client = new HttpClient { BaseAddress = api };
        var token = await client.PostAsJsonAsync("/v1/auth/token", new { api_key = apiKey });
        token.EnsureSuccessStatusCode();
        var body = await token.Content.ReadFromJsonAsync<JsonElement>();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body.GetProperty("access_token").GetString());
        return client;
    }

    private static async Task<(string TenantId, string ApiKey)> CreateTenantAsync(Uri api, string plan)
    {
        using var admin = new HttpClient { BaseAddress = api };
        admin.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);
        var created = await admin.PostAsJsonAsync("/v1/admin/tenants", new { name = plan + " shop", plan });
        created.EnsureSuccessStatusCode();
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("tenant_id").GetString()!, body.GetProperty("api_key").GetString()!);
    }

    [Fact]
    public async Task Two_API_processes_and_a_lander_process_share_one_budget_one_truth_and_land_every_event_once()
    {
        var topic = kafka.NewTopic(partitions: 3);
        var controlPlane = PostgresServer.Shared.CreateDatabase();
        var a = await ServiceProcess.StartApiAsync(Environment(topic, controlPlane, "api-a"));
        processes.Add(a);
        var b = await ServiceProcess.StartApiAsync(Environment(topic, controlPlane, "api-b"));
        processes.Add(b);
        var lander = ServiceProcess.StartPo(Environment(topic, controlPlane, "lander"), "land");
        processes.Add(lander);

        // Events sent to both processes, two batches sent again to the other one (a client's retries): each lands once.
        var (tenantId, proKey) = await CreateTenantAsync(a.BaseAddress!, "pro");
        using var proOnA = await TenantClientAsync(a.BaseAddress!, proKey);
        using var proOnB = await TenantClientAsync(b.BaseAddress!, proKey);
        await IngestApiFactory.CreateTestExperimentAsync(proOnA, "exp-1", start: true);
        var events = TestEvents.Mixed(750, DateTimeOffset.UtcNow);
        var batches = events.Chunk(100).ToList();
        for (var i = 0; i < batches.Count; i++)
        {
            var sent = await (i % 2 == 0 ? proOnA : proOnB).PostAsync("/v1/events", IngestApiFactory.Json(batches[i]));
            Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Accepted, (await proOnB.PostAsync("/v1/events", IngestApiFactory.Json(batches[0]))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await proOnA.PostAsync("/v1/events", IngestApiFactory.Json(batches[1]))).StatusCode);

        using var queries = new LakeQueries(Lake);
        var landed = 0;
        var guard = Stopwatch.StartNew();
        while (guard.Elapsed < TimeSpan.FromSeconds(90) && !lander.HasExited)
        {
            landed = Lake.HasEvents() ? (await queries.ReadEventsAsync(tenantId, null, CancellationToken.None)).Count : 0;
            if (landed >= events.Count)
            {
                break;
            }

            await Task.Delay(200);
        }

        Assert.True(landed == events.Count, $"{landed} of {events.Count} landed; lander: {string.Join('\n', lander.Output)}");
        var read = await queries.ReadEventsAsync(tenantId, null, CancellationToken.None);
        Assert.Equal(events.Select(e => e.EventId).Order(), read.Select(e => e.Event.EventId).Order());
        Assert.Empty(await queries.FindDuplicatePositionsAsync(CancellationToken.None));
        var (variants, _) = await queries.RawExperimentStatsAsync(tenantId, "exp-1", CancellationToken.None);
        Assert.Equal((750, 250), (variants.Sum(v => v.Users), variants.Sum(v => v.Conversions)));

        // A free tenant's 61st request in a minute is refused on either process. A minute boundary crossed on the way
        // (the remaining count goes up) spoils the count: the next try is a new free tenant, whose budget is whole.
        var counted = false;
        for (var attempt = 0; attempt < 3 && !counted; attempt++)
        {
            var (_, freeKey) = await CreateTenantAsync(b.BaseAddress!, "free");
            using var freeOnA = await TenantClientAsync(a.BaseAddress!, freeKey);
            using var freeOnB = await TenantClientAsync(b.BaseAddress!, freeKey);
            var answers = new List<(HttpStatusCode Status, int Remaining)>();
            for (var i = 1; i <= 62; i++)
            {
                var response = await (i % 2 == 0 ? freeOnA : freeOnB).GetAsync("/v1/experiments");
                answers.Add((response.StatusCode,
                    int.Parse(response.Headers.GetValues("X-RateLimit-Remaining").Single(), System.Globalization.CultureInfo.InvariantCulture)));
            }

            if (answers.Zip(answers.Skip(1)).Any(pair => pair.Second.Remaining > pair.First.Remaining))
            {
                continue; // a new window began on the way: these requests belong to two windows
            }

            Assert.All(answers.Take(60), answer => Assert.Equal(HttpStatusCode.OK, answer.Status));
            Assert.All(answers.Skip(60), answer => Assert.Equal(HttpStatusCode.TooManyRequests, answer.Status)); // the 61st on B, the 62nd on A
            counted = true;
        }

        Assert.True(counted, "no minute window held all 62 requests in three tries");

        // A pause through A reaches B, which had just cached the running experiment, before its cache could expire.
        var experiment = """{"experiment_id":"checkout","name":"n","currency":"EUR","variants":[{"variant_id":"a","price":10,"control":true},{"variant_id":"b","price":12}]}""";
        (await proOnA.PostAsync("/v1/experiments", IngestApiFactory.Json(experiment))).EnsureSuccessStatusCode();
        (await proOnA.PostAsync("/v1/experiments/checkout/start", null)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.OK, (await proOnB.PostAsJsonAsync("/v1/assign", new { experiment_id = "checkout", user_id = "u1" })).StatusCode);
        var clock = Stopwatch.StartNew();
        (await proOnA.PostAsync("/v1/experiments/checkout/pause", null)).EnsureSuccessStatusCode();
        var paused = clock.Elapsed;
        while ((await proOnB.PostAsJsonAsync("/v1/assign", new { experiment_id = "checkout", user_id = "u2" })).StatusCode != HttpStatusCode.Conflict
               && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
        }

        var seen = clock.Elapsed - paused;
        output.WriteLine($"pause seen by the other process {seen.TotalMilliseconds:0} ms after the pause answered");
        Assert.True(seen < ExperimentDefinitions.CacheTime,
            $"the other process saw the pause only after {seen.TotalMilliseconds:0} ms: by expiry, not notification");
    }
}
