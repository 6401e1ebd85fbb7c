using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Experiments;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Adaptive;

/// <summary>In an adaptive experiment a user keeps the price of their first assignment when the weights change; new users follow the new weights.</summary>
public sealed class StickyAssignmentTests : IDisposable
{
    private const string AdminKey = "sticky-admin";
    private readonly IngestApiFactory api = new(new Dictionary<string, string?> { ["Auth:AdminKey"] = AdminKey });

    public void Dispose() => api.Dispose();

    private static async Task<string> AssignAsync(HttpClient client, string experiment, string user, string path = "/v1/assign")
    {
        object body = path == "/v1/convert"
            ? new { experiment_id = experiment, user_id = user, event_id = "order-" + user }
            : new { experiment_id = experiment, user_id = user };
        var answer = await IngestApiFactory.ReadJsonAsync(await client.PostAsJsonAsync(path, body),
            path == "/v1/convert" ? System.Net.HttpStatusCode.Accepted : System.Net.HttpStatusCode.OK);
        return answer.GetProperty("variant_id").GetString()!;
    }

    private static async Task CreateAsync(HttpClient client, string id, object allocation)
    {
        var body = new
        {
            experiment_id = id, name = id, currency = "USD",
            variants = new object[]
            {
                new { variant_id = "p0", price = 5m, control = true }, new { variant_id = "p1", price = 10m }, new { variant_id = "p2", price = 15m },
            },
            allocation,
        };
        await IngestApiFactory.ReadJsonAsync(await client.PostAsJsonAsync("/v1/experiments", body), System.Net.HttpStatusCode.Created);
        await IngestApiFactory.ReadJsonAsync(await client.PostAsync($"/v1/experiments/{id}/start", null));
    }

    [Fact]
    public async Task Users_keep_their_first_variant_across_a_weight_change_and_new_users_follow_the_new_weights()
    {
        var (tenantId, _, client) = await api.CreateTenantAsync(AdminKey, "Sticky", "enterprise");
        await CreateAsync(client, "adaptive", new { mode = "adaptive" });

        // Burn-in, version 0: the equal split, whatever the configured weights.
        var first = new Dictionary<string, string>();
        for (var u = 0; u < 600; u++)
        {
            first[$"old-{u}"] = await AssignAsync(client, "adaptive", $"old-{u}");
        }

        Assert.All(first.Values.GroupBy(v => v), g => Assert.InRange(g.Count(), 150, 250));

        var store = api.Services.GetRequiredService<IAllocationStore>();
        Assert.True(await store.AddWeightVersionAsync(new WeightVersion(tenantId, "adaptive", 1, DateTimeOffset.UtcNow.AddSeconds(-1),
            new Dictionary<string, double> { ["p0"] = 0.9, ["p1"] = 0.05, ["p2"] = 0.05 }, ["test"]), CancellationToken.None));

        foreach (var (user, variant) in first)
        {
            Assert.Equal(variant, await AssignAsync(client, "adaptive", user));
        }

        // A conversion is attributed to the variant the user was first given.
        foreach (var user in first.Keys.Take(50))
        {
            Assert.Equal(first[user], await AssignAsync(client, "adaptive", user, "/v1/convert"));
        }

        var fresh = new List<string>();
        for (var u = 0; u < 2000; u++)
        {
            fresh.Add(await AssignAsync(client, "adaptive", $"new-{u}"));
        }

        Assert.InRange(fresh.Count(v => v == "p0") / 2000.0, 0.86, 0.94);

        var allocation = await IngestApiFactory.ReadJsonAsync(await client.GetAsync("/v1/experiments/adaptive/allocation"));
        Assert.Equal(1, allocation.GetProperty("in_force_version").GetInt32());
        Assert.Equal(0.9, allocation.GetProperty("versions")[0].GetProperty("weights").GetProperty("p0").GetDouble());
        Assert.Equal("adaptive", allocation.GetProperty("allocation").GetProperty("mode").GetString());
    }

    [Fact]
    public async Task The_sdk_asks_the_api_for_an_adaptive_experiments_variant_and_a_conversion_counts_for_the_users_first_variant()
    {
        var (tenantId, apiKey, client) = await api.CreateTenantAsync(AdminKey, "Sdk", "enterprise");
        await CreateAsync(client, "adaptive", new { mode = "adaptive" });
        var before = new Dictionary<string, string>();
        await using (var sdk = new PricingOptimizer.Client.PricingOptimizerClient(
                         new PricingOptimizer.Client.PricingOptimizerClientOptions
                         {
                             ApiKey = apiKey, FlushInterval = TimeSpan.FromMilliseconds(50), EvaluationTimeout = TimeSpan.FromSeconds(60),
                         },
                         api.CreateDefaultClient()))
        {
            for (var u = 0; u < 200; u++)
            {
                before[$"u-{u}"] = (await sdk.AssignAsync("adaptive", $"u-{u}", 0m)).VariantId;
            }

            await api.Services.GetRequiredService<IAllocationStore>().AddWeightVersionAsync(new WeightVersion(tenantId, "adaptive", 1,
                DateTimeOffset.UtcNow.AddSeconds(-1), new Dictionary<string, double> { ["p0"] = 0.01, ["p1"] = 0.01, ["p2"] = 0.98 }, []), CancellationToken.None);
            foreach (var (user, variant) in before)
            {
                Assert.Equal(variant, (await sdk.AssignAsync("adaptive", user, 0m)).VariantId);
                Assert.Equal(variant, await AssignAsync(client, "adaptive", user));
            }

            for (var u = 0; u < 40; u++)
            {
                await sdk.TrackConversionAsync("adaptive", $"u-{u}", $"order-{u}");
            }

            await sdk.FlushAsync();
            Assert.Equal(40, sdk.Sent);
        }

        // 200 assigns (recorded by the API) and 40 conversions, each on the user's first variant.
        await api.LandUntilAsync(tenantId, 240);
        var events = await api.Services.GetRequiredService<PricingOptimizer.Lake.LakeQueries>().ReadEventsAsync(tenantId, "adaptive", CancellationToken.None);
        Assert.All(events.Where(e => e.Event.Type == PricingOptimizer.Events.EventType.Convert), e => Assert.Equal(before[e.Event.UserId], e.Event.VariantId));
        Assert.Equal(200, events.Count(e => e.Event.Type == PricingOptimizer.Events.EventType.Assign));
    }

    /// <summary>Counts the requests to one path.</summary>
    private sealed class Counting(string path) : DelegatingHandler
    {
        public int Calls;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath == path)
            {
                Interlocked.Increment(ref Calls);
            }

            return base.SendAsync(request, cancellationToken);
        }
    }

    [Theory]
    [InlineData(100_000, 100, 100)]
    [InlineData(30, 100, 140)]
    [InlineData(0, 100, 180)]
    public async Task The_sdk_remembers_adaptive_answers_up_to_its_bound_so_a_remembered_user_costs_no_more_api_calls(int remember, int first,
        int total)
    {
        var (_, apiKey, client) = await api.CreateTenantAsync(AdminKey, "Remember", "enterprise");
        await CreateAsync(client, "adaptive", new { mode = "adaptive" });
        var counting = new Counting("/v1/assign");
        var answers = new Dictionary<string, string>();
        await using (var sdk = new PricingOptimizer.Client.PricingOptimizerClient(new PricingOptimizer.Client.PricingOptimizerClientOptions
                     {
                         ApiKey = apiKey, FlushInterval = TimeSpan.FromMilliseconds(50), RememberedAssignments = remember,
                         EvaluationTimeout = TimeSpan.FromSeconds(60), // a busy test machine is not an outage
                     }, api.CreateDefaultClient(counting)))
        {
            for (var u = 0; u < 100; u++)
            {
                answers[$"u-{u}"] = (await sdk.AssignAsync("adaptive", $"u-{u}", 0m)).VariantId;
            }

            Assert.Equal(first, counting.Calls);

            // Users 60..99 again, then a purchase by each of them: the answers stay the API's.
            for (var u = 60; u < 100; u++)
            {
                Assert.Equal(answers[$"u-{u}"], (await sdk.AssignAsync("adaptive", $"u-{u}", 0m)).VariantId);
                await sdk.TrackConversionAsync("adaptive", $"u-{u}", $"order-{u}");
            }

            await sdk.FlushAsync();
            Assert.Equal(40, sdk.Sent);
        }

        // Remembering all: no more calls. The newest 30 (users 70..99): each of users 60..99 is forgotten by the time it comes again (each new
        // answer pushes out the oldest), so its assign asks once more and its purchase right after does not. None remembered: two calls each.
        Assert.Equal(total, counting.Calls);
        foreach (var (user, variant) in answers)
        {
            Assert.Equal(variant, await AssignAsync(client, "adaptive", user));
        }
    }

    [Fact]
    public async Task A_holdout_share_is_split_by_the_configured_weights_and_a_fixed_experiment_is_assigned_as_always()
    {
        var (tenantId, _, client) = await api.CreateTenantAsync(AdminKey, "Holdout", "enterprise");
        await CreateAsync(client, "held", new { mode = "adaptive", holdout = 0.5 });
        await CreateAsync(client, "fixed", new { mode = "fixed" });
        var store = api.Services.GetRequiredService<IAllocationStore>();
        await store.AddWeightVersionAsync(new WeightVersion(tenantId, "held", 1, DateTimeOffset.UtcNow.AddSeconds(-1),
            new Dictionary<string, double> { ["p0"] = 0.998, ["p1"] = 0.001, ["p2"] = 0.001 }, []), CancellationToken.None);

        var held = new List<string>();
        for (var u = 0; u < 1500; u++)
        {
            held.Add(await AssignAsync(client, "held", $"u-{u}"));
        }

        // Half the users follow the 99.8% version, the other half the configured equal split: p1 and p2 keep about a sixth each.
        Assert.InRange(held.Count(v => v == "p1") / 1500.0, 0.12, 0.21);
        Assert.InRange(held.Count(v => v == "p0") / 1500.0, 0.60, 0.73);

        var assigner = new VariantAssigner("fixed", [1.0, 1.0, 1.0]);
        for (var u = 0; u < 200; u++)
        {
            Assert.Equal("p" + assigner.Assign($"u-{u}"), await AssignAsync(client, "fixed", $"u-{u}"));
        }
    }
}
