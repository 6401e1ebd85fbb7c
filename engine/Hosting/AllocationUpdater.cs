using Microsoft.Extensions.Logging;
using Npgsql;
using PricingOptimizer.Adaptive;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.ControlPlane.Postgres;
using PricingOptimizer.Experiments;

namespace PricingOptimizer.Hosting;

/// <summary>
/// Updates the weights of every active adaptive experiment once per its cadence: every minute it asks each one for an
/// update, which stores a version only when the cadence since the last has passed and the burn-in is over. With
/// PostgreSQL one process updates at a time (an advisory lock; the others skip the pass); with SQLite the API itself.
/// Two updaters racing still store one version (versions are insert-only).
/// </summary>
public sealed partial class AllocationUpdater(IControlPlaneStore store, AllocationService allocations, TimeProvider time, ILogger<AllocationUpdater> logger)
    : Microsoft.Extensions.Hosting.BackgroundService
{
    private const long LockKey = 0x706f5f616c6c6f63; // "po_alloc"

    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    /// <summary>One pass over every tenant's active adaptive experiments; returns the versions stored.</summary>
    public async Task<IReadOnlyList<WeightVersion>> RunOnceAsync(CancellationToken cancellationToken)
    {
        await using var held = store is PostgresControlPlaneStore postgres ? await TryLockAsync(postgres, cancellationToken) : null;
        if (store is PostgresControlPlaneStore && held is null)
        {
            return [];
        }

        var stored = new List<WeightVersion>();
        foreach (var tenant in await store.ListTenantsAsync(cancellationToken))
        {
            foreach (var experiment in await store.ListExperimentsAsync(tenant.TenantId, cancellationToken))
            {
                if (experiment is not { Status: ExperimentStatus.Active, Allocation.Mode: AllocationMode.Adaptive })
                {
                    continue;
                }

                try
                {
                    var result = await allocations.UpdateAsync(tenant.TenantId, experiment.ExperimentId, force: false, cancellationToken);
                    if (result.Stored is { } version)
                    {
                        stored.Add(version);
                        Stored(logger, tenant.TenantId, experiment.ExperimentId, version.Version, string.Join(" ", version.Reasons));
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Failed(logger, tenant.TenantId, experiment.ExperimentId, e);
                }
            }
        }

        return stored;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                PassFailed(logger, e);
            }
        }
    }

    /// <summary>The session advisory lock on its own connection, or null when another process holds it.</summary>
    private static async Task<NpgsqlConnection?> TryLockAsync(PostgresControlPlaneStore postgres, CancellationToken cancellationToken)
    {
        var connection = await postgres.DataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
        command.Parameters.AddWithValue("key", LockKey);
        if (await command.ExecuteScalarAsync(cancellationToken) is true)
        {
            return connection; // closing the connection releases the lock
        }

        await connection.DisposeAsync();
        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Adaptive weights of {Tenant}/{Experiment}: version {Version} stored ({Reasons})")]
    private static partial void Stored(ILogger logger, string tenant, string experiment, int version, string reasons);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Adaptive weights of {Tenant}/{Experiment} not updated; the next pass tries again")]
    private static partial void Failed(ILogger logger, string tenant, string experiment, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "An allocation pass failed; the next pass tries again")]
    private static partial void PassFailed(ILogger logger, Exception exception);
}
