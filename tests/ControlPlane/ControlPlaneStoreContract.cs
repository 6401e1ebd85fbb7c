using PricingOptimizer.Billing;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.ControlPlane.Postgres;
using PricingOptimizer.Experiments;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.ControlPlane;

/// <summary>What every control-plane store promises, run against SQLite and against a real PostgreSQL server.</summary>
public abstract class ControlPlaneStoreContract : IDisposable
{
    private static readonly DateTimeOffset At = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    protected abstract IControlPlaneStore Store { get; }

    public abstract void Dispose();

    private async Task<Tenant> TenantAsync(string id = "tn_a", string plan = "free")
    {
        var tenant = new Tenant(id, "Shop " + id, plan, At);
        await Store.CreateTenantAsync(tenant, CancellationToken.None);
        return tenant;
    }

    private static Experiment Draft(string tenant, string id = "exp") => new(tenant, id, "Checkout", "EUR", ExperimentStatus.Draft,
        [new Variant("a", 9.99m, 1, true), new Variant("b", 12.49m, 2, false)], At, At);

    [Fact]
    public async Task Tenants_are_stored_listed_and_change_plan()
    {
        var a = await TenantAsync("tn_a");
        await TenantAsync("tn_b", "pro");
        Assert.Equal(a, await Store.GetTenantAsync("tn_a", CancellationToken.None));
        Assert.Null(await Store.GetTenantAsync("tn_x", CancellationToken.None));
        Assert.Equal(["tn_a", "tn_b"], (await Store.ListTenantsAsync(CancellationToken.None)).Select(t => t.TenantId));
        Assert.True(await Store.SetPlanAsync("tn_a", "starter", CancellationToken.None));
        Assert.False(await Store.SetPlanAsync("tn_x", "starter", CancellationToken.None));
        Assert.Equal("starter", (await Store.GetTenantAsync("tn_a", CancellationToken.None))!.Plan);
    }

    [Fact]
    public async Task Api_keys_are_found_by_hash_listed_and_revoked_once()
    {
        await TenantAsync();
        var hash = new byte[] { 1, 2, 3, 4 };
        await Store.AddApiKeyAsync(new ApiKeyInfo("po_abc", "tn_a", At, null), hash, CancellationToken.None);
        Assert.Equal("po_abc", (await Store.FindApiKeyAsync(hash, CancellationToken.None))!.Prefix);
        Assert.Null(await Store.FindApiKeyAsync([9], CancellationToken.None));
        Assert.True(await Store.RevokeApiKeyAsync("tn_a", "po_abc", At.AddHours(1), CancellationToken.None));
        Assert.False(await Store.RevokeApiKeyAsync("tn_a", "po_abc", At.AddHours(2), CancellationToken.None));
        var key = Assert.Single(await Store.ListApiKeysAsync("tn_a", CancellationToken.None));
        Assert.Equal(At.AddHours(1), key.RevokedAt);
    }

    [Fact]
    public async Task Provider_keys_are_replaced_listed_per_tenant_or_all_and_deleted()
    {
        await TenantAsync("tn_a");
        await TenantAsync("tn_b");
        await Store.SaveProviderKeyAsync(new SealedProviderKey("tn_a", "stripe", 1, [1], [2, 3], [4], "abcd", At), CancellationToken.None);
        await Store.SaveProviderKeyAsync(new SealedProviderKey("tn_a", "stripe", 2, [5], [6, 7], [8], "wxyz", At.AddDays(1)), CancellationToken.None);
        await Store.SaveProviderKeyAsync(new SealedProviderKey("tn_b", "paid", 1, [1], [2], [3], "1234", At), CancellationToken.None);
        var stripe = (await Store.GetProviderKeyAsync("tn_a", "stripe", CancellationToken.None))!;
        Assert.Equal((2, "wxyz"), (stripe.KeyVersion, stripe.Last4));
        Assert.Equal([6, 7], stripe.Ciphertext);
        Assert.Single(await Store.ListProviderKeysAsync("tn_a", CancellationToken.None));
        Assert.Equal(2, (await Store.ListProviderKeysAsync(null, CancellationToken.None)).Count);
        Assert.True(await Store.DeleteProviderKeyAsync("tn_a", "stripe", CancellationToken.None));
        Assert.False(await Store.DeleteProviderKeyAsync("tn_a", "stripe", CancellationToken.None));
    }

    [Fact]
    public async Task Experiments_insert_once_and_writes_are_conditional_on_the_version()
    {
        await TenantAsync();
        var draft = Draft("tn_a");
        Assert.True(await Store.InsertExperimentAsync(draft, CancellationToken.None));
        Assert.False(await Store.InsertExperimentAsync(draft with { Name = "again" }, CancellationToken.None));
        var stored = (await Store.GetExperimentAsync("tn_a", "exp", CancellationToken.None))!;
        Assert.Equal((1L, "Checkout", 2, 12.49m), (stored.Version, stored.Name, stored.Variants.Count, stored.Variants[1].Price));

        var started = stored with { Status = ExperimentStatus.Active, Version = 2 };
        Assert.True(await Store.UpdateExperimentAsync(started, expectedVersion: 1, CancellationToken.None));
        // A second writer that read version 1 too loses: its change is not written over the first.
        Assert.False(await Store.UpdateExperimentAsync(stored with { Name = "stale", Version = 2 }, expectedVersion: 1, CancellationToken.None));
        var now = (await Store.GetExperimentAsync("tn_a", "exp", CancellationToken.None))!;
        Assert.Equal((2L, ExperimentStatus.Active, "Checkout"), (now.Version, now.Status, now.Name));

        Assert.False(await Store.DeleteExperimentAsync("tn_a", "exp", expectedVersion: 1, CancellationToken.None));
        Assert.True(await Store.DeleteExperimentAsync("tn_a", "exp", expectedVersion: 2, CancellationToken.None));
        Assert.Null(await Store.GetExperimentAsync("tn_a", "exp", CancellationToken.None));
    }

    [Fact]
    public async Task An_experiments_goal_and_unit_cost_are_kept()
    {
        await TenantAsync();
        Assert.True(await Store.InsertExperimentAsync(Draft("tn_a"), CancellationToken.None));
        var stored = (await Store.GetExperimentAsync("tn_a", "exp", CancellationToken.None))!;
        Assert.Equal((PricingOptimizer.Pricing.Goal.Revenue, (decimal?)null), (stored.Goal, stored.UnitCost));
        var profit = stored with { Goal = PricingOptimizer.Pricing.Goal.Profit, UnitCost = 3.3333m, Version = stored.Version + 1 };
        Assert.True(await Store.UpdateExperimentAsync(profit, stored.Version, CancellationToken.None));
        var read = (await Store.GetExperimentAsync("tn_a", "exp", CancellationToken.None))!;
        Assert.Equal((PricingOptimizer.Pricing.Goal.Profit, (decimal?)3.3333m), (read.Goal, read.UnitCost));
        var conversions = read with { Goal = PricingOptimizer.Pricing.Goal.Conversions, UnitCost = null, Version = read.Version + 1 };
        Assert.True(await Store.UpdateExperimentAsync(conversions, read.Version, CancellationToken.None));
        var listed = (await Store.ListExperimentsAsync("tn_a", CancellationToken.None))[0];
        Assert.Equal((PricingOptimizer.Pricing.Goal.Conversions, (decimal?)null), (listed.Goal, listed.UnitCost));
    }

    [Fact]
    public async Task Experiments_are_listed_per_tenant_in_creation_order()
    {
        await TenantAsync("tn_a");
        await TenantAsync("tn_b");
        await Store.InsertExperimentAsync(Draft("tn_a", "second") with { CreatedAt = At.AddMinutes(1) }, CancellationToken.None);
        await Store.InsertExperimentAsync(Draft("tn_a", "first"), CancellationToken.None);
        await Store.InsertExperimentAsync(Draft("tn_b", "other"), CancellationToken.None);
        Assert.Equal(["first", "second"], (await Store.ListExperimentsAsync("tn_a", CancellationToken.None)).Select(e => e.ExperimentId));
        Assert.Null(await Store.GetExperimentAsync("tn_b", "first", CancellationToken.None));
    }

    [Fact]
    public async Task Api_calls_add_up_and_keep_the_busiest_minute_including_repeats_in_one_flush()
    {
        var day = new DateOnly(2026, 11, 26);
        await Store.AddApiCallsAsync([new ApiCallCount("tn_a", day, 10, 4), new ApiCallCount("tn_a", day, 5, 7),
            new ApiCallCount("tn_a", day.AddDays(1), 1, 1)],
            CancellationToken.None);
        await Store.AddApiCallsAsync([new ApiCallCount("tn_a", day, 3, 2)], CancellationToken.None);
        Assert.Equal([new ApiCallDay(day, 18, 7), new ApiCallDay(day.AddDays(1), 1, 1)],
            await Store.GetApiCallsAsync("tn_a", day, day.AddDays(5), CancellationToken.None));
        Assert.Empty(await Store.GetApiCallsAsync("tn_b", day, day, CancellationToken.None));
    }

    [Fact]
    public async Task Billing_settings_are_replaced_and_deleted_and_dead_letters_are_kept_once_per_event_and_kind()
    {
        await TenantAsync();
        await Store.SetBillingAsync(new BillingSettings("tn_a", BillingProvider.Stripe, BillingMode.Managed, At), CancellationToken.None);
        await Store.SetBillingAsync(new BillingSettings("tn_a", BillingProvider.PaidAi, BillingMode.Byok, At.AddDays(1)), CancellationToken.None);
        Assert.Equal(new BillingSettings("tn_a", BillingProvider.PaidAi, BillingMode.Byok, At.AddDays(1)),
            await Store.GetBillingAsync("tn_a", CancellationToken.None));
        Assert.True(await Store.DeleteBillingAsync("tn_a", CancellationToken.None));
        Assert.Null(await Store.GetBillingAsync("tn_a", CancellationToken.None));

        DeadLetter Letter(string eventId, string error, int attempts) => new(0, "tn_a", "stripe", eventId, "usage", "{}", error, attempts, At);
        await Store.AddDeadLettersAsync([Letter("e1", "first", 1), Letter("e2", "other", 1)], CancellationToken.None);
        await Store.AddDeadLettersAsync([Letter("e1", "again", 3)], CancellationToken.None);
        var letters = await Store.ListDeadLettersAsync("tn_a", 10, CancellationToken.None);
        Assert.Equal(2, letters.Count);
        Assert.Equal(("again", 3), letters.Where(l => l.EventId == "e1").Select(l => (l.Error, l.Attempts)).Single());
        Assert.Single(await Store.ListDeadLettersAsync("tn_a", 1, CancellationToken.None));
    }

    [Fact]
    public async Task A_weight_version_is_stored_once_and_a_users_first_assignment_is_kept_whatever_comes_later()
    {
        var v1 = new PricingOptimizer.Experiments.WeightVersion("tn_a", "exp", 1, At, new Dictionary<string, double> { ["a"] = 0.7, ["b"] = 0.3 }, ["why"]);
        Assert.True(await Store.AddWeightVersionAsync(v1, CancellationToken.None));
        Assert.False(await Store.AddWeightVersionAsync(v1 with { Weights = new Dictionary<string, double> { ["a"] = 0.1, ["b"] = 0.9 } }, CancellationToken.None));
        Assert.True(await Store.AddWeightVersionAsync(v1 with { Version = 2, StartsAt = At.AddDays(1) }, CancellationToken.None));
        var versions = await Store.ListWeightVersionsAsync("tn_a", "exp", CancellationToken.None);
        Assert.Equal([1, 2], versions.Select(v => v.Version));
        Assert.Equal((0.7, 0.3, "why", At), (versions[0].Weights["a"], versions[0].Weights["b"], versions[0].Reasons.Single(), versions[0].StartsAt));
        Assert.Empty(await Store.ListWeightVersionsAsync("tn_a", "other", CancellationToken.None));

        var first = (await Store.FirstAssignmentsAsync([new("tn_a", "exp", "u1", new("a", 1, At))], recordNew: true, CancellationToken.None)).Single();
        var again = (await Store.FirstAssignmentsAsync([new("tn_a", "exp", "u1", new("b", 2, At.AddDays(2)))], recordNew: true, CancellationToken.None)).Single();
        Assert.Equal(new PricingOptimizer.Experiments.FirstAssignment("a", 1, At), first);
        Assert.Equal(first, again);

        // Only reading: a recorded user's answer, and null (nothing written) for one with none.
        var read = await Store.FirstAssignmentsAsync([new("tn_a", "exp", "u1", new("b", 2, At)), new("tn_a", "exp", "u2", new("b", 2, At))], recordNew: false,
            CancellationToken.None);
        Assert.Equal([first, null], read);

        // One batch: a recorded user, a new one asked twice (the first ask wins), the same user id in another experiment.
        var batch = await Store.FirstAssignmentsAsync(
        [
            new("tn_a", "exp", "u2", new("b", 2, At.AddDays(2))),
            new("tn_a", "exp", "u1", new("b", 2, At.AddDays(2))),
            new("tn_a", "exp", "u2", new("a", 3, At.AddDays(3))),
            new("tn_a", "exp2", "u1", new("b", 0, At)),
        ], recordNew: true, CancellationToken.None);
        Assert.Equal(["b", "a", "b", "b"], batch.Select(f => f!.VariantId));
        Assert.Equal([2, 1, 2, 0], batch.Select(f => f!.Version));
        Assert.Equal(batch[0], (await Store.FirstAssignmentsAsync([new("tn_a", "exp", "u2", new("a", 9, At))], recordNew: false, CancellationToken.None))
            .Single());
        Assert.Empty(await Store.FirstAssignmentsAsync([], recordNew: true, CancellationToken.None));
    }
}

public sealed class SqliteControlPlaneStoreContract : ControlPlaneStoreContract
{
    private readonly TempDirectory folder = new();
    private readonly SqliteControlPlaneStore store;

    public SqliteControlPlaneStoreContract() => store = new SqliteControlPlaneStore("Data Source=" + Path.Combine(folder.Path, "cp.db"));

    protected override IControlPlaneStore Store => store;

    public override void Dispose() => folder.Dispose();
}

public sealed class PostgresControlPlaneStoreContract : ControlPlaneStoreContract
{
    private readonly PostgresControlPlaneStore store = new(PostgresServer.Shared.CreateDatabase());

    protected override IControlPlaneStore Store => store;

    public override void Dispose() => store.Dispose();
}
