using Microsoft.Data.Sqlite;

namespace PricingOptimizer.ControlPlane;

public sealed partial class SqliteControlPlaneStore
{
    private const string ExperimentColumns = "tenant_id, experiment_id, name, currency, status, variants, created_at, updated_at, version, goal, unit_cost";

    private static Experiments.Experiment ReadExperiment(SqliteDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2),
        r.GetString(3), ExperimentColumnsText.Status(r.GetString(4)),
        ExperimentColumnsText.Variants(r.GetString(5)), Time(r, 6), Time(r, 7))
    {
        Version = r.GetInt64(8),
        Goal = ExperimentColumnsText.Goal(r.GetString(9)),
        UnitCost = r.IsDBNull(10) ? null : ExperimentColumnsText.Money(r.GetString(10)),
    };

    private static void BindExperiment(SqliteParameterCollection p, Experiments.Experiment e)
    {
        p.AddWithValue("$tenant", e.TenantId);
        p.AddWithValue("$id", e.ExperimentId);
        p.AddWithValue("$name", e.Name);
        p.AddWithValue("$currency", e.Currency);
        p.AddWithValue("$status", ExperimentColumnsText.Status(e.Status));
        p.AddWithValue("$variants", ExperimentColumnsText.Variants(e.Variants));
        p.AddWithValue("$created", e.CreatedAt.ToUnixTimeMilliseconds());
        p.AddWithValue("$updated", e.UpdatedAt.ToUnixTimeMilliseconds());
        p.AddWithValue("$version", e.Version);
        p.AddWithValue("$goal", Pricing.Goals.ToWire(e.Goal));
        p.AddWithValue("$unit_cost", e.UnitCost is { } cost ? ExperimentColumnsText.Money(cost) : DBNull.Value);
    }

    public async Task<bool> InsertExperimentAsync(Experiments.Experiment experiment, CancellationToken cancellationToken) => await RunAsync(
        $"INSERT OR IGNORE INTO experiments ({ExperimentColumns}) VALUES ($tenant, $id, $name, $currency, $status, $variants, $created, $updated, $version, $goal, $unit_cost)",
        p => BindExperiment(p, experiment),
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken) == 1;

    public async Task<bool> UpdateExperimentAsync(Experiments.Experiment experiment, long expectedVersion, CancellationToken cancellationToken) => await RunAsync(
        """
        UPDATE experiments SET name = $name, currency = $currency, status = $status, variants = $variants, updated_at = $updated, version = $version,
            goal = $goal, unit_cost = $unit_cost
        WHERE tenant_id = $tenant AND experiment_id = $id AND created_at = $created AND version = $expected
        """,
        p =>
        {
            BindExperiment(p, experiment);
            p.AddWithValue("$expected", expectedVersion);
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken) == 1;

    public async Task<Experiments.Experiment?> GetExperimentAsync(string tenantId, string experimentId, CancellationToken cancellationToken) => (await RunAsync(
        $"SELECT {ExperimentColumns} FROM experiments WHERE tenant_id = $tenant AND experiment_id = $id",
        p =>
        {
            p.AddWithValue("$tenant", tenantId);
            p.AddWithValue("$id", experimentId);
        },
        (c, ct) => ReadAllAsync(c, ReadExperiment, ct), cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<Experiments.Experiment>> ListExperimentsAsync(string tenantId, CancellationToken cancellationToken) => await RunAsync(
        $"SELECT {ExperimentColumns} FROM experiments WHERE tenant_id = $tenant ORDER BY created_at, experiment_id",
        p => p.AddWithValue("$tenant", tenantId),
        (c, ct) => ReadAllAsync(c, ReadExperiment, ct), cancellationToken);

    public async Task<bool> DeleteExperimentAsync(string tenantId, string experimentId, long expectedVersion, CancellationToken cancellationToken) => await RunAsync(
        "DELETE FROM experiments WHERE tenant_id = $tenant AND experiment_id = $id AND version = $expected",
        p =>
        {
            p.AddWithValue("$tenant", tenantId);
            p.AddWithValue("$id", experimentId);
            p.AddWithValue("$expected", expectedVersion);
        },
        (c, ct) => c.ExecuteNonQueryAsync(ct), cancellationToken) == 1;
}
