using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Experiments;

/// <summary>An experiment's allocation: defaults, what a request may set, each refusal naming its field, kept by both stores.</summary>
public abstract class AllocationSettingsTests(ControlPlaneKind store) : IDisposable
{
    private const string AdminKey = "allocation-admin";
    private readonly IngestApiFactory api = new(ControlPlaneStores.With(store, new Dictionary<string, string?> { ["Auth:AdminKey"] = AdminKey }));

    public void Dispose() => api.Dispose();

    private static Dictionary<string, object?> Experiment(string id, object? allocation, int variants = 3, string goal = "revenue") => new()
    {
        ["experiment_id"] = id,
        ["name"] = "Plans",
        ["currency"] = "EUR",
        ["goal"] = goal,
        ["unit_cost"] = goal == "profit" ? 2.5m : null,
        ["variants"] = Enumerable.Range(0, variants).Select(i => new { variant_id = "p" + i, price = 5m + i, control = i == 0 }).ToArray(),
        ["allocation"] = allocation,
    };

    [Fact]
    public async Task Without_an_allocation_an_experiment_is_fixed_with_the_documented_defaults()
    {
        var (_, _, client) = await api.CreateTenantAsync(AdminKey, "Shop", "pro");
        var created = await IngestApiFactory.ReadJsonAsync(await client.PostAsJsonAsync("/v1/experiments", Experiment("plain", null)), HttpStatusCode.Created);
        var a = created.GetProperty("allocation");
        Assert.Equal(("fixed", "revenue", 0.05, "1d", 0.25, 0.0), (a.GetProperty("mode").GetString(), a.GetProperty("goal").GetString(),
            a.GetProperty("floor").GetDouble(), a.GetProperty("cadence").GetString(), a.GetProperty("max_step").GetDouble(), a.GetProperty("holdout").GetDouble()));
        Assert.Equal((100, 40), (a.GetProperty("burn_in").GetProperty("users").GetInt32(), a.GetProperty("burn_in").GetProperty("conversions").GetInt32()));
        Assert.Equal((JsonValueKind.Null, 7), (a.GetProperty("attribution_days").ValueKind, a.GetProperty("min_days").GetInt32()));
    }

    [Fact]
    public async Task An_adaptive_allocation_is_kept_as_sent_takes_the_experiments_goal_and_reads_back_the_same()
    {
        var (_, _, client) = await api.CreateTenantAsync(AdminKey, "Shop", "pro");
        var sent = new { mode = "adaptive", floor = 0.1, cadence = "6h", burn_in = new { users = 250, conversions = 60 }, max_step = 0.1, holdout = 0.2,
            attribution_days = 3, min_days = 14 };
        var created = await IngestApiFactory.ReadJsonAsync(await client.PostAsJsonAsync("/v1/experiments", Experiment("adaptive", sent, goal: "profit")), HttpStatusCode.Created);
        var read = await IngestApiFactory.ReadJsonAsync(await client.GetAsync("/v1/experiments/adaptive"), HttpStatusCode.OK);
        foreach (var a in new[] { created.GetProperty("allocation"), read.GetProperty("allocation") })
        {
            Assert.Equal(("adaptive", "profit", 2.5m), (a.GetProperty("mode").GetString(), a.GetProperty("goal").GetString(), a.GetProperty("unit_cost").GetDecimal()));
            Assert.Equal((0.1, "6h", 0.1, 0.2), (a.GetProperty("floor").GetDouble(), a.GetProperty("cadence").GetString(), a.GetProperty("max_step").GetDouble(),
                a.GetProperty("holdout").GetDouble()));
            Assert.Equal((250, 60), (a.GetProperty("burn_in").GetProperty("users").GetInt32(), a.GetProperty("burn_in").GetProperty("conversions").GetInt32()));
            Assert.Equal((3, 14), (a.GetProperty("attribution_days").GetInt32(), a.GetProperty("min_days").GetInt32()));
        }

        // In draft the allocation changes; once started it does not.
        var changed = await IngestApiFactory.ReadJsonAsync(await client.PutAsJsonAsync("/v1/experiments/adaptive", new { allocation = new { cadence = "1d", goal = "revenue" } }),
            HttpStatusCode.OK);
        Assert.Equal(("1d", "revenue", 0.1), (changed.GetProperty("allocation").GetProperty("cadence").GetString(),
            changed.GetProperty("allocation").GetProperty("goal").GetString(), changed.GetProperty("allocation").GetProperty("floor").GetDouble()));
        await IngestApiFactory.ReadJsonAsync(await client.PostAsync("/v1/experiments/adaptive/start", null), HttpStatusCode.OK);
        var refused = await IngestApiFactory.ReadJsonAsync(await client.PutAsJsonAsync("/v1/experiments/adaptive", new { allocation = new { mode = "fixed" } }), HttpStatusCode.Conflict);
        Assert.Equal("allocation", refused.GetProperty("field").GetString());
        Assert.Equal("adaptive", (await IngestApiFactory.ReadJsonAsync(await client.GetAsync("/v1/experiments/adaptive"), HttpStatusCode.OK))
            .GetProperty("allocation").GetProperty("mode").GetString());
    }

    public static TheoryData<string, string> Refused => new()
    {
        { """{"mode":"bandit"}""", "allocation.mode" },
        { """{"mode":3}""", "allocation.mode" },
        { """{"mode":"adaptive","goal":"clicks"}""", "allocation.goal" },
        { """{"mode":"adaptive","goal":"profit"}""", "allocation.unit_cost" },
        { """{"unit_cost":-1}""", "allocation.unit_cost" },
        { """{"floor":-0.01}""", "allocation.floor" },
        { """{"floor":0.34}""", "allocation.floor" },
        { """{"floor":"a lot"}""", "allocation.floor" },
        { """{"cadence":"14m"}""", "allocation.cadence" },
        { """{"cadence":"31d"}""", "allocation.cadence" },
        { """{"cadence":"1 day"}""", "allocation.cadence" },
        { """{"cadence":"-5m"}""", "allocation.cadence" },
        { """{"cadence":86400}""", "allocation.cadence" },
        { """{"burn_in":{"users":-1}}""", "allocation.burn_in.users" },
        { """{"burn_in":{"conversions":20000000}}""", "allocation.burn_in.conversions" },
        { """{"max_step":0}""", "allocation.max_step" },
        { """{"max_step":1.5}""", "allocation.max_step" },
        { """{"holdout":0.6}""", "allocation.holdout" },
        { """{"attribution_days":0}""", "allocation.attribution_days" },
        { """{"attribution_days":4000}""", "allocation.attribution_days" },
        { """{"attribution_days":"a week"}""", "allocation.attribution_days" },
        { """{"min_days":-1}""", "allocation.min_days" },
        { """{"min_days":400}""", "allocation.min_days" },
        { "\"adaptive\"", "allocation" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_bad_allocation_is_a_problem_naming_its_field_and_nothing_is_created(string allocation, string field)
    {
        var (_, _, client) = await api.CreateTenantAsync(AdminKey, "Shop", "pro");
        var body = JsonSerializer.Serialize(Experiment("bad", null)).Replace("\"allocation\":null", "\"allocation\":" + allocation, StringComparison.Ordinal);
        var response = await client.PostAsync("/v1/experiments", IngestApiFactory.Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/experiments/bad")).StatusCode);
    }
}

public sealed class AllocationSettingsTestsOnSqlite() : AllocationSettingsTests(ControlPlaneKind.Sqlite);

public sealed class AllocationSettingsTestsOnPostgres() : AllocationSettingsTests(ControlPlaneKind.Postgres);
