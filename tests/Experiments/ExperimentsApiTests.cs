using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.Lake;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Experiments;

public abstract class ExperimentsApiTests(ControlPlaneKind store) : IDisposable
{
    private const string AdminKey = "experiments-admin";
    private readonly IngestApiFactory api = new(ControlPlaneStores.With(store, new Dictionary<string, string?> { ["Auth:AdminKey"] = AdminKey }));

    private static object Checkout(string id = "checkout") => new
    {
        experiment_id = id,
        name = "Checkout price",
        currency = "USD",
        variants = new object[]
        {
            new { variant_id = "control", price = 9.99m, weight = 1.0, control = true },
            new { variant_id = "charm", price = 8.99m, weight = 1.0, control = false },
        },
    };

    [Fact]
    public async Task An_experiment_goes_draft_active_paused_active_completed_and_illegal_moves_name_the_allowed_ones()
    {
        var (_, _, client) = await api.CreateTenantAsync(AdminKey, "Acme", "pro");
        var created = await IngestApiFactory.ReadJsonAsync(await client.PostAsJsonAsync("/v1/experiments", Checkout()), HttpStatusCode.Created);
        Assert.Equal("draft", created.GetProperty("status").GetString());
        Assert.Equal(2, created.GetProperty("variants").GetArrayLength());

        var illegal = await IngestApiFactory.ReadJsonAsync(await client.PostAsync("/v1/experiments/checkout/pause", null), HttpStatusCode.Conflict);
        Assert.Equal(["start"], illegal.GetProperty("allowed").EnumerateArray().Select(a => a.GetString()!).ToArray());

        Assert.Equal("active", (await IngestApiFactory.ReadJsonAsync(await client.PostAsync("/v1/experiments/checkout/start", null),
            HttpStatusCode.OK)).GetProperty("status").GetString());
        Assert.Equal("paused", (await IngestApiFactory.ReadJsonAsync(await client.PostAsync("/v1/experiments/checkout/pause", null),
            HttpStatusCode.OK)).GetProperty("status").GetString());
        Assert.Equal("active", (await IngestApiFactory.ReadJsonAsync(await client.PostAsync("/v1/experiments/checkout/start", null),
            HttpStatusCode.OK)).GetProperty("status").GetString());

        var editVariants = await client.PutAsJsonAsync("/v1/experiments/checkout", new
        {
            variants = new object[] { new { variant_id = "control", price = 19.99m, control = true }, new { variant_id = "b", price = 1m } },
        });
        Assert.Contains("only in draft", (await IngestApiFactory.ReadJsonAsync(editVariants, HttpStatusCode.Conflict)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("Checkout v2", (await IngestApiFactory.ReadJsonAsync(await client.PutAsJsonAsync("/v1/experiments/checkout", new { name = "Checkout v2" }), HttpStatusCode.OK))
            .GetProperty("name").GetString());
        await IngestApiFactory.ReadJsonAsync(await client.DeleteAsync("/v1/experiments/checkout"), HttpStatusCode.Conflict);

        Assert.Equal("completed", (await IngestApiFactory.ReadJsonAsync(await client.PostAsync("/v1/experiments/checkout/complete", null),
            HttpStatusCode.OK)).GetProperty("status").GetString());
        var final = await IngestApiFactory.ReadJsonAsync(await client.PostAsync("/v1/experiments/checkout/start", null), HttpStatusCode.Conflict);
        Assert.Equal(0, final.GetProperty("allowed").GetArrayLength());
        await IngestApiFactory.ReadJsonAsync(await client.DeleteAsync("/v1/experiments/checkout"), HttpStatusCode.NoContent);
        await IngestApiFactory.ReadJsonAsync(await client.GetAsync("/v1/experiments/checkout"), HttpStatusCode.NotFound);
    }

    public static TheoryData<string, string> BadExperiments => new()
    {
        { """{"name":"x","currency":"USD","variants":[{"variant_id":"a","price":1,"control":true}]}""", "variants" },
        { """{"name":"x","currency":"USD","variants":[{"variant_id":"a","price":1},{"variant_id":"b","price":2}]}""", "variants" },
        { """{"name":"x","currency":"USD","variants":[{"variant_id":"a","price":1,"control":true},{"variant_id":"b","price":2,"control":true}]}""",
            "variants" },
        { """{"name":"x","currency":"USD","variants":[{"variant_id":"a","price":1,"control":true},{"variant_id":"b","price":2,"weight":0}]}""",
            "variants[1].weight" },
        { """{"name":"x","currency":"USD","variants":[{"variant_id":"a","price":-1,"control":true},{"variant_id":"b","price":2}]}""", "variants[0].price" },
        { """{"name":"x","currency":"usd","variants":[{"variant_id":"a","price":1,"control":true},{"variant_id":"b","price":2}]}""", "currency" },
        { """{"currency":"USD","variants":[{"variant_id":"a","price":1,"control":true},{"variant_id":"b","price":2}]}""", "name" },
        { """{"experiment_id":"bad id","name":"x","currency":"USD","variants":[{"variant_id":"a","price":1,"control":true},{"variant_id":"b","price":2}]}""", "experiment_id" },
    };

    [Theory]
    [MemberData(nameof(BadExperiments))]
    public async Task A_bad_experiment_is_400_naming_the_field(string body, string field)
    {
        var (_, _, client) = await api.CreateTenantAsync(AdminKey, "Acme", "pro");
        var problem = await IngestApiFactory.ReadJsonAsync(await client.PostAsync("/v1/experiments", IngestApiFactory.Json(body)), HttpStatusCode.BadRequest);
        Assert.Equal(field, problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Only_active_experiments_assign_and_the_assign_and_convert_land_in_the_lake()
    {
        var (tenantId, _, client) = await api.CreateTenantAsync(AdminKey, "Shop", "pro");
        await IngestApiFactory.ReadJsonAsync(await client.PostAsJsonAsync("/v1/experiments", Checkout()), HttpStatusCode.Created);
        var draft = await IngestApiFactory.ReadJsonAsync(await client.PostAsJsonAsync("/v1/assign", new { experiment_id = "checkout", user_id = "u1" }), HttpStatusCode.Conflict);
        Assert.Equal(["start"], draft.GetProperty("allowed").EnumerateArray().Select(a => a.GetString()!).ToArray());
        await IngestApiFactory.ReadJsonAsync(await client.PostAsJsonAsync("/v1/assign", new { experiment_id = "nope", user_id = "u1" }), HttpStatusCode.NotFound);

        await IngestApiFactory.ReadJsonAsync(await client.PostAsync("/v1/experiments/checkout/start", null), HttpStatusCode.OK);
        var assigned = await IngestApiFactory.ReadJsonAsync(await client.PostAsJsonAsync("/v1/assign", new { experiment_id = "checkout", user_id = "u1" }), HttpStatusCode.OK);
        var variant = assigned.GetProperty("variant_id").GetString();
        for (var i = 0; i < 5; i++)
        {
            var again = await IngestApiFactory.ReadJsonAsync(await client.PostAsJsonAsync("/v1/assign", new { experiment_id = "checkout", user_id = "u1" }), HttpStatusCode.OK);
            Assert.Equal(variant, again.GetProperty("variant_id").GetString());
        }

        var price = assigned.GetProperty("price").GetDecimal();
        Assert.Equal(variant == "control" ? 9.99m : 8.99m, price);
        Assert.Equal("USD", assigned.GetProperty("currency").GetString());

        var converted = await IngestApiFactory.ReadJsonAsync(await client.PostAsJsonAsync("/v1/convert",
            new { experiment_id = "checkout", user_id = "u1", event_id = "order-1", revenue = 17.98m }), HttpStatusCode.Accepted);
        Assert.Equal(variant, converted.GetProperty("variant_id").GetString());
        await IngestApiFactory.ReadJsonAsync(await client.PostAsJsonAsync("/v1/convert", new { experiment_id = "checkout", user_id = "u1" }), HttpStatusCode.BadRequest);

        Assert.Equal(2, await api.LandUntilAsync(tenantId, 2));
        var events = await api.Services.GetRequiredService<LakeQueries>().ReadEventsAsync(tenantId, "checkout", CancellationToken.None);
        Assert.Equal(["assign", "convert"], events.Select(e => e.Event.Type.ToString().ToLowerInvariant()).ToArray());
        Assert.All(events, e => Assert.Equal(variant, e.Event.VariantId));
        Assert.Equal(17.98m, events[1].Event.Revenue);
        Assert.Equal(price, events[1].Event.Price);
    }

    [Fact]
    public async Task Events_must_name_an_experiment_of_the_tenant_one_of_its_variants_and_its_currency()
    {
        var (_, _, client) = await api.CreateTenantAsync(AdminKey, "Strict", "pro");
        await IngestApiFactory.CreateTestExperimentAsync(client, "exp-1");
        var now = DateTimeOffset.UtcNow;
        var good = TestEvents.Assign(0, now);
        var events = new[]
        {
            good,
            good with { EventId = "x1", ExperimentId = "unknown-exp" },
            good with { EventId = "x2", VariantId = "platinum" },
            good with { EventId = "x3", Currency = "EUR" },
        };
        var response = await IngestApiFactory.ReadJsonAsync(await client.PostAsync("/v1/events", IngestApiFactory.Json(events)), HttpStatusCode.Accepted);
        Assert.Equal(1, response.GetProperty("accepted").GetInt32());
        var rejected = response.GetProperty("rejected").EnumerateArray().ToDictionary(r => r.GetProperty("index").GetInt32(),
            r => r.GetProperty("field").GetString());
        Assert.Equal(new Dictionary<int, string?> { [1] = "experiment_id", [2] = "variant_id", [3] = "currency" }, rejected);
    }

    [Fact]
    public async Task A_tenant_unknown_to_the_control_plane_cannot_create_experiments()
    {
        using var client = api.ClientFor("dev-only-tenant");
        var problem = await IngestApiFactory.ReadJsonAsync(await client.PostAsJsonAsync("/v1/experiments", Checkout()), HttpStatusCode.NotFound);
        Assert.Contains("/v1/admin/tenants", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    public void Dispose() => api.Dispose();
}

public sealed class ExperimentsApiTestsOnSqlite() : ExperimentsApiTests(ControlPlaneKind.Sqlite);

public sealed class ExperimentsApiTestsOnPostgres() : ExperimentsApiTests(ControlPlaneKind.Postgres);
